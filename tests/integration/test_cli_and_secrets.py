"""The `dome` CLI as a user runs it, against a real broker process, and the promise
that a provider secret never shows in clear anywhere the broker writes or answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.integration.broker import BrokerProcess

SECRET_ENV = "ANTHROPIC_KEY_FOR_TEST"


EXAMPLES = Path(__file__).parents[2] / "examples"


def dome(
    data_dir: Path,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DOME_")}
    environ.update({"DOME_HOME": str(data_dir), **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "dome.cli", *args],
        input=stdin,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    process = BrokerProcess(tmp_path_factory.mktemp("cli"), {"DOME_LOG_LEVEL": "debug"})
    try:
        process.wait_ready()
        yield process
    finally:
        if process.process.poll() is None:
            process.terminate()
        process.close()


def test_seed_workflow_with_the_cli_then_secrets_stay_hidden(
    broker: BrokerProcess, fake_anthropic: FakeAnthropic
) -> None:
    data_dir = broker.data_dir
    secret = fake_anthropic.api_key
    outputs: list[str] = []

    def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        result = dome(data_dir, *args, **kwargs)  # type: ignore[arg-type]
        outputs.extend((result.stdout, result.stderr))
        assert result.returncode == 0, result.stderr
        return result

    run("tenant", "create", "acme")
    run("workspace", "create", "research", "--tenant", "acme")
    created = run("agent", "create", "planner", "--workspace", "research", "--output", "json")
    token = json.loads(created.stdout)["token"]
    run(
        "model",
        "add",
        "anthropic-prod",
        "--provider",
        "anthropic",
        "--model",
        "claude-sonnet-4-6",
        "--auth-method",
        "api-key",
        "--credential-type",
        "shared",
        "--credential-env",
        SECRET_ENV,
        "--base-url",
        fake_anthropic.url,
        env={SECRET_ENV: secret},
    )
    listed = json.loads(run("model", "list", "--output", "json").stdout)
    assert [m["name"] for m in listed] == ["anthropic-prod"]
    assert listed[0]["has_credential"] is True
    run("model", "show", "anthropic-prod")
    agents = json.loads(run("agent", "list", "--output", "json").stdout)
    assert agents[0]["tenant"] == "acme"

    # Default deny: nothing is permitted until rules are applied.
    with (
        anthropic.Anthropic(base_url=broker.url + "/v1", api_key=token, max_retries=0) as denied,
        pytest.raises(anthropic.PermissionDeniedError, match="no policy permits"),
    ):
        denied.messages.create(
            model="claude-sonnet-4-6", max_tokens=8, messages=[{"role": "user", "content": "x"}]
        )
    # The seed's command, verbatim, from the directory holding the quickstart rules.
    applied = run("rules", "apply", "models/cheap-reasoning.cedar", cwd=EXAMPLES)
    assert "published policy version" in applied.stdout

    # The seed's snippet, verbatim shape.
    client = anthropic.Anthropic(base_url=broker.url + "/v1", api_key=token, max_retries=0)
    message = client.messages.create(
        model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.content[0].type == "text"

    # Rotation of the provider key through stdin, then of the master key.
    run("model", "set-credential", "anthropic-prod", "--credential-stdin", stdin=secret + "\n")
    old_key = (data_dir / "master.key").read_text()
    rotated = json.loads(run("admin", "rotate-master-key", "--output", "json").stdout)
    assert rotated["reencrypted"] == 3  # the model credential, the token-hash and audit keys
    assert (data_dir / "master.key").read_text() != old_key
    assert len((data_dir / "master.key").read_text().split()) == 1
    shown = json.loads(run("model", "show", "anthropic-prod", "--output", "json").stdout)
    assert shown["credential_key_id"] == rotated["active_key_id"]
    # Calls and tokens still work under the new key.
    assert client.messages.create(
        model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "again"}]
    ).content
    client.close()
    tail = run("audit", "tail", "-n", "5", "--output", "json")
    assert len(json.loads(tail.stdout)) >= 2

    # Error bodies that mention the model never carry its key.
    bad = httpx.post(
        broker.url + "/v1/messages",
        json={"model": "claude-sonnet-4-6"},
        headers={"x-api-key": token},
    )
    outputs.append(bad.text)
    admin_headers = {"authorization": f"Bearer {broker.admin.token}"}
    outputs.extend(
        httpx.get(broker.url + path, headers=admin_headers).text
        for path in (
            "/admin/v1/models",
            "/admin/v1/models/anthropic-prod",
            "/admin/v1/audit?limit=50",
        )
    )

    _, log = broker.terminate()
    outputs.append(log)
    assert "config version" in log  # the log was really captured
    for text in outputs:
        assert secret not in text
    for file in data_dir.rglob("*"):
        if file.is_file():
            assert secret.encode() not in file.read_bytes(), file


@pytest.fixture
def attributes_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """A broker of its own: the seed workflow stops the module's broker to read its log."""
    process = BrokerProcess(tmp_path_factory.mktemp("cli-attributes"))
    try:
        process.wait_ready()
        yield process
    finally:
        if process.process.poll() is None:
            process.terminate()
        process.close()


def test_policy_attributes_through_the_cli(attributes_broker: BrokerProcess) -> None:
    broker = attributes_broker

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = dome(broker.data_dir, *args)
        assert result.returncode == 0, result.stderr
        return result

    def as_json(*args: str) -> dict[str, object]:
        record: dict[str, object] = json.loads(run(*args, "--output", "json").stdout)
        return record

    run("tenant", "create", "attrs")
    workspace = as_json(
        "workspace", "create", "attrs-ws", "--tenant", "attrs", "--residency", "eu",
        "--max-classification", "confidential",
    )  # fmt: skip
    assert (workspace["residency"], workspace["max_classification"]) == ("eu", "confidential")
    agent = as_json(
        "agent", "create", "attrs-agent", "--workspace", "attrs-ws", "--label", "team:ml",
        "--classification-default", "internal",
    )  # fmt: skip
    assert (agent["labels"], agent["classification_default"]) == (["team:ml"], "internal")

    updated = as_json(
        "agent", "update", "attrs-agent", "--clear-labels", "--classification-floor", "public"
    )
    assert (updated["labels"], updated["classification_floor"]) == ([], "public")
    assert updated["classification_default"] == "internal"
    assert as_json("agent", "show", "attrs-agent") == updated
    assert (
        as_json("workspace", "update", "attrs-ws", "--classification-default", "public")[
            "classification_default"
        ]
        == "public"
    )
    assert "confidential" in run("workspace", "show", "attrs-ws").stdout

    model = as_json(
        "model", "add", "attrs-model", "--provider", "mock", "--model", "claude-x-20250929",
        "--region", "eu-west-1",
    )  # fmt: skip
    assert (model["region"], model["tier"], model["effective_family"]) == (
        "eu-west-1",
        "standard",
        "claude-x",
    )
    changed = as_json("model", "update", "attrs-model", "--tier", "cheap", "--family", "x")
    assert (changed["tier"], changed["family"], changed["region"]) == ("cheap", "x", "eu-west-1")
    assert "cheap" in run("model", "list").stdout

    refused = dome(
        broker.data_dir, "agent", "update", "attrs-agent", "--classification-floor", "top"
    )
    assert refused.returncode == 2
    assert "Invalid value for '--classification-floor'" in refused.stderr
    missing = dome(broker.data_dir, "workspace", "update", "nope", "--residency", "eu")
    assert missing.returncode == 1
    assert "workspace 'nope' not found" in missing.stderr
    assert as_json("agent", "show", "attrs-agent") == updated


def test_rules_through_the_cli(attributes_broker: BrokerProcess, tmp_path: Path) -> None:
    broker = attributes_broker

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = dome(broker.data_dir, *args)
        assert result.returncode == 0, result.stderr
        return result

    run("tenant", "create", "acme")
    run("workspace", "create", "research", "--tenant", "acme")
    run("agent", "create", "planner", "--workspace", "research")
    run("model", "add", "demo", "--provider", "mock")
    assert "entity Agent in [Workspace]" in run("rules", "schema").stdout

    denied = run("rules", "test", "--agent", "planner", "--model", "demo")
    assert denied.stdout.startswith('DENY  no policy permits agent "planner"')
    granted = run("grant", "--workspace", "research", "--model", "demo")
    assert "grant.workspace.research.model.demo" in granted.stdout
    assert run("rules", "test", "--agent", "planner", "--model", "demo").stdout.startswith("ALLOW")

    rules = tmp_path / "limits.cedar"
    rules.write_text(
        '@id("research.no-restricted")\n@reason("no restricted data here")\n'
        'forbid(principal in Workspace::"research", action, resource)\n'
        'when { context.classification == "restricted" };\n'
    )
    dry = run("rules", "apply", str(rules), "--scope", "workspace:research", "--dry-run")
    assert "dry run" in dry.stdout
    assert "research.no-restricted" not in run("rules", "list").stdout
    run("rules", "apply", str(rules), "--scope", "workspace:research")
    listed = json.loads(run("rules", "list", "--output", "json").stdout)
    assert {rule["id"] for rule in listed} == {
        "grant.workspace.research.model.demo",
        "research.no-restricted",
    }
    restricted = run(
        "rules", "test", "--agent", "planner", "--model", "demo", "--classification", "restricted"
    )
    assert "denied by policy research.no-restricted: no restricted data here" in restricted.stdout
    assert "when { context.classification" in run("rules", "show", "research.no-restricted").stdout

    bad = tmp_path / "bad.cedar"
    bad.write_text('@id("wide")\npermit(principal, action, resource);\n')
    refused = dome(broker.data_dir, "rules", "apply", str(bad), "--scope", "tenant:acme")
    assert refused.returncode == 1
    assert f"{bad}:1" in refused.stderr
    assert "wide" in refused.stderr

    run("rules", "remove", "research.no-restricted")
    history = json.loads(run("rules", "history", "--output", "json").stdout)
    assert [entry["note"] for entry in history][:1] == ["remove research.no-restricted"]
    run("rules", "rollback", str(history[1]["version"]))
    assert "research.no-restricted" in run("rules", "list").stdout
    usage = dome(broker.data_dir, "grant", "--agent", "planner", "--workspace", "research")
    assert usage.returncode == 2


def test_the_seed_pool_and_route_explain_through_the_cli(attributes_broker: BrokerProcess) -> None:
    broker = attributes_broker

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = dome(broker.data_dir, *args)
        assert result.returncode == 0, result.stderr
        return result

    run("tenant", "create", "acme")
    run("workspace", "create", "research", "--tenant", "acme")
    run("agent", "create", "planner", "--workspace", "research")
    run("model", "add", "anthropic-prod", "--provider", "mock", "--model", "claude-sonnet-4-6")
    run("grant", "--workspace", "research", "--model", "anthropic-prod")
    # The seed's commands, verbatim.
    run(
        "model", "pool", "create", "cheap-reasoning",
        "--match-when", '{"request.model":["claude-haiku-4-5","gpt-5-mini"]}',
    )  # fmt: skip
    run("model", "pool", "add", "cheap-reasoning", "anthropic-prod")
    explained = run("route", "explain", "--agent", "planner", "--model", "claude-haiku-4-5")
    assert "pool cheap-reasoning" in explained.stdout
    assert "anthropic-prod" in explained.stdout
    assert "will try" in explained.stdout
    as_json = json.loads(
        run(
            "route", "explain", "--agent", "planner", "--model", "gpt-5-mini", "--output", "json"
        ).stdout
    )
    assert as_json["pool"] == "cheap-reasoning"
    direct = run("route", "explain", "--agent", "planner", "--model", "anthropic-prod")
    assert "none of 1 pools matches" in direct.stdout
    assert "1. anthropic-prod  will try" in direct.stdout
    unknown = dome(broker.data_dir, "route", "explain", "--agent", "planner", "--model", "nope")
    assert unknown.returncode == 1


def test_cli_refuses_a_secret_without_a_safe_source(broker: BrokerProcess) -> None:
    result = dome(broker.data_dir, "model", "add", "x", "--provider", "openai", stdin="")
    assert result.returncode != 0
    assert "--credential-env" in result.stderr


def test_cli_reports_an_unreachable_broker(tmp_path: Path) -> None:
    result = dome(
        tmp_path, "tenant", "list", env={"DOME_URL": "http://127.0.0.1:9", "DOME_ADMIN_TOKEN": "x"}
    )
    assert result.returncode == 1
    assert "cannot reach the broker" in result.stderr
