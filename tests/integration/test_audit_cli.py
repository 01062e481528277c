"""`dome audit query|show|verify` and `dome spend report` against a real broker, on
SQLite and on PostgreSQL: calls made with the official SDKs against the `mock` provider,
figures checked against the usage the SDKs read, then the database tampered with
directly and `verify` made to say so."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import psycopg
import pytest
from click.testing import CliRunner, Result

from dome.cli import CliContext, cli
from tests.integration.broker import ThreadedBroker, threaded_broker
from tests.postgres import PostgresServer

# USD per million tokens of the priced mock entry.
INPUT_PRICE, OUTPUT_PRICE = Decimal("3.00"), Decimal(15)
MILLION = Decimal(1_000_000)
DENY_SECRET = """
@id("beta.no-secret")
forbid(principal == Agent::"beta", action, resource == Model::"secret");
"""
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


class RecordingTransport(httpx.BaseTransport):
    """The real network transport, remembering each request the CLI sends."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._network = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._network.handle_request(request)

    def close(self) -> None:
        self._network.close()


@dataclass
class Ran:
    result: Result
    requests: list[httpx.Request]

    @property
    def stdout(self) -> str:
        return self.result.stdout

    def json(self) -> Any:
        assert self.result.exit_code == 0, self.result.output
        return json.loads(self.result.stdout)


@dataclass
class Database:
    """Direct access to the broker's database, as someone tampering with it would have."""

    sqlite_path: Path | None = None
    postgres_url: str | None = None

    def rows(self, statement: str, *params: object) -> list[tuple[Any, ...]]:
        if self.postgres_url is not None:
            with psycopg.connect(self.postgres_url) as connection:
                return connection.execute(statement.replace("?", "%s"), params).fetchall()
        assert self.sqlite_path is not None
        with sqlite3.connect(self.sqlite_path, timeout=10) as connection:
            return connection.execute(statement, params).fetchall()

    def execute(self, statement: str, *params: object) -> None:
        if self.postgres_url is not None:
            with psycopg.connect(self.postgres_url) as connection:
                connection.execute(statement.replace("?", "%s"), params)
            return
        assert self.sqlite_path is not None
        database = sqlite3.connect(self.sqlite_path, timeout=10)
        try:
            with database:  # commits
                database.execute(statement, params)
        finally:
            database.close()


@dataclass
class Usage:
    input: int
    output: int
    cost: Decimal


@dataclass
class Trail:
    broker: ThreadedBroker
    database: Database
    # (agent, model entry) -> the usage of each call, as the SDK read it
    usage: dict[tuple[str, str], list[Usage]] = field(default_factory=dict)

    def dome(self, *args: str) -> Ran:
        transport = RecordingTransport()
        context = CliContext(
            transport=transport,
            environ={"DOME_HOME": str(self.broker.data_dir), "DOME_URL": self.broker.url},
        )
        result = CliRunner().invoke(cli, list(args), obj=context)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return Ran(result, transport.requests)

    def calls(self, agent: str | None = None, model: str | None = None) -> list[Usage]:
        return [
            usage
            for (who, entry), usages in self.usage.items()
            if agent in (None, who) and model in (None, entry)
            for usage in usages
        ]


def priced(model: str, input_tokens: int, output_tokens: int) -> Usage:
    if model != "demo":  # only the `demo` entry has prices
        return Usage(input_tokens, output_tokens, Decimal(0))
    cost = (input_tokens * INPUT_PRICE + output_tokens * OUTPUT_PRICE) / MILLION
    return Usage(input_tokens, output_tokens, cost)


@contextmanager
def broker_on(
    database: str, data_dir: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[ThreadedBroker, Database]]:
    """A broker on a fresh SQLite file in `data_dir`, or on a fresh PostgreSQL database."""
    environ: dict[str, str] = {}
    direct = Database(sqlite_path=data_dir / "dome.db")
    if database == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database()
        environ["DOME_DATABASE_URL"] = url
        direct = Database(postgres_url=url)
    with threaded_broker(data_dir, environ) as broker:
        yield broker, direct


def wait_for_calls(broker: ThreadedBroker, count: int) -> None:
    """The audit writer batches off the hot path: wait until `count` calls have ended."""
    deadline = time.monotonic() + 10
    while len(broker.admin.call("GET", "/audit?limit=1000")["data"]) < count:
        assert time.monotonic() < deadline, "the audit records did not arrive"
        time.sleep(0.05)


def ask(client: openai.OpenAI, model: str, prompt: str) -> Usage:
    response = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}]
    )
    assert response.usage is not None
    return priced(model, response.usage.prompt_tokens, response.usage.completion_tokens)


def make_calls(trail: Trail) -> None:
    """alpha (OpenAI SDK): two calls to the priced `demo`, one failing upstream; beta
    (Anthropic SDK): `demo`, the unpriced `cheap`, and one denied by policy."""
    broker, admin = trail.broker, trail.broker.admin
    admin.permit_all()
    admin.rules(DENY_SECRET, file="deny.cedar")
    alpha, beta = admin.agent("alpha"), admin.agent("beta")
    admin.model("demo", "mock", model="mock-1", input_price="3.00", output_price="15")
    admin.model("cheap", "mock", model="mock-1")
    admin.model("bad", "mock", model="mock-error-500")
    admin.model("secret", "mock", model="mock-1")
    usage = trail.usage
    with openai.OpenAI(base_url=broker.url + "/v1", api_key=alpha, max_retries=0) as client:
        usage["alpha", "demo"] = [
            ask(client, "demo", "hello there"),
            ask(client, "demo", "a longer question about what the audit trail keeps"),
        ]
        with pytest.raises(openai.InternalServerError):
            ask(client, "bad", "x")
        usage["alpha", "bad"] = [Usage(0, 0, Decimal(0))]  # no usage was reported
    with anthropic.Anthropic(base_url=broker.url, api_key=beta, max_retries=0) as client:
        for model in ("demo", "cheap"):
            message = client.messages.create(
                model=model, max_tokens=32, messages=[{"role": "user", "content": "hi " + model}]
            )
            usage["beta", model] = [
                priced(model, message.usage.input_tokens, message.usage.output_tokens)
            ]
        with pytest.raises(anthropic.PermissionDeniedError):
            client.messages.create(
                model="secret", max_tokens=8, messages=[{"role": "user", "content": "x"}]
            )
        usage["beta", "secret"] = [Usage(0, 0, Decimal(0))]
    wait_for_calls(broker, 6)


@pytest.fixture(scope="module", params=DATABASES)
def trail(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Trail]:
    with broker_on(request.param, tmp_path_factory.mktemp("audit-cli"), request) as (
        broker,
        direct,
    ):
        made = Trail(broker, direct)
        make_calls(made)
        yield made


def sent(ran: Ran) -> list[dict[str, str]]:
    """The query parameters of each request the CLI sent."""
    return [dict(request.url.params) for request in ran.requests]


def pairs(rows: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((row["agent"], row["requested_model"]) for row in rows)


def test_query_by_agent_outcome_decision_and_model(trail: Trail) -> None:
    alpha = trail.dome("audit", "query", "--agent", "alpha", "--output", "json")
    assert sent(alpha) == [{"agent": "alpha", "limit": "100"}]
    rows = alpha.json()
    assert pairs(rows) == [("alpha", "bad"), ("alpha", "demo"), ("alpha", "demo")]
    assert [row["started_at"] for row in rows] == sorted(
        (row["started_at"] for row in rows), reverse=True
    )  # newest first

    ok = trail.dome("audit", "query", "--outcome", "ok", "-o", "json").json()
    assert pairs(ok) == [("alpha", "demo"), ("alpha", "demo"), ("beta", "cheap"), ("beta", "demo")]
    assert sorted((row["input_tokens"], row["output_tokens"]) for row in ok) == sorted(
        (usage.input, usage.output) for usage in trail.calls() if usage.input
    )
    failed = trail.dome("audit", "query", "--outcome", "upstream_error", "-o", "json").json()
    assert pairs(failed) == [("alpha", "bad")]

    denied = trail.dome("audit", "query", "--decision", "deny", "-o", "json").json()
    assert pairs(denied) == [("beta", "secret")]
    assert (denied[0]["outcome"], denied[0]["status"]) == ("denied_policy", 403)

    demo = trail.dome("audit", "query", "--model", "demo", "--agent", "beta", "-o", "json")
    assert sent(demo) == [{"agent": "beta", "model": "demo", "limit": "100"}]
    assert pairs(demo.json()) == [("beta", "demo")]
    limited = trail.dome("audit", "query", "--limit", "2", "-o", "json").json()
    assert len(limited) == 2


def test_query_by_time(trail: Trail) -> None:
    recent = trail.dome("audit", "query", "--since", "1h", "-o", "json")
    assert sent(recent) == [{"since": "1h", "limit": "100"}]
    assert len(recent.json()) == 6
    old = trail.dome("audit", "query", "--until", "2000-01-01T00:00:00Z")
    assert sent(old) == [{"until": "2000-01-01T00:00:00Z", "limit": "100"}]
    assert old.stdout == "no calls match\n"
    assert trail.dome("audit", "query", "--until", "2000-01-01", "-o", "json").json() == []


def test_query_table_shows_tokens_and_cost(trail: Trail) -> None:
    ran = trail.dome("audit", "query", "--agent", "beta", "--model", "demo")
    assert ran.result.exit_code == 0, ran.result.output
    header, row = ran.stdout.splitlines()
    assert header.split() == [
        "TIME", "CALL", "AGENT", "MODEL", "OUTCOME", "STATUS", "IN", "OUT", "COST", "USD", "MS",
    ]  # fmt: skip
    (usage,) = trail.calls("beta", "demo")
    _date, _time, call_id, *cells, cost, latency = row.split()
    assert call_id.startswith("call_")
    assert cells == ["beta", "demo", "ok", "200", str(usage.input), str(usage.output)]
    assert Decimal(cost) == usage.cost > 0
    assert float(latency) > 0


def test_query_csv_has_every_column_of_the_rows(trail: Trail) -> None:
    rows = trail.dome("audit", "query", "--agent", "alpha", "-o", "json").json()
    ran = trail.dome("audit", "query", "--agent", "alpha", "--output", "csv")
    assert ran.result.exit_code == 0, ran.result.output
    reader = csv.DictReader(io.StringIO(ran.stdout))
    assert reader.fieldnames == list(rows[0])
    lines = list(reader)
    assert [line["call_id"] for line in lines] == [row["call_id"] for row in rows]
    for line, row in zip(lines, rows, strict=True):
        assert line["input_tokens"] == (
            "" if row["input_tokens"] is None else str(row["input_tokens"])
        )
        assert json.loads(line["policy_ids"]) == row["policy_ids"]
        assert line["stream"] == "false"
    none = trail.dome("audit", "query", "--agent", "nobody", "-o", "csv")
    assert (none.result.exit_code, none.stdout) == (0, "")


def fields_of(block: list[str]) -> dict[str, str]:
    """`label  value` lines (labels may hold one space) as a dict."""
    found = {}
    for line in block:
        label, _, value = line.strip().partition("  ")
        found[label] = value.strip()
    return found


def test_show_lists_each_attempt_and_the_end(trail: Trail) -> None:
    (row,) = trail.dome("audit", "query", "--agent", "beta", "--model", "demo", "-o", "json").json()
    call_id = row["call_id"]
    ran = trail.dome("audit", "show", call_id)
    assert ran.result.exit_code == 0, ran.result.output
    assert [request.url.path for request in ran.requests] == [f"/admin/v1/audit/calls/{call_id}"]
    title, *blocks = ran.stdout.strip().split("\n\n")
    # The start was journaled, not stored: the call ended (docs/audit.md).
    assert title == f"call {call_id}: 2 records"
    heads = [block.splitlines()[0].split("  ")[0] for block in blocks]
    assert heads == ["attempt 1", "end"]
    attempt, end = (fields_of(block.splitlines()[1:]) for block in blocks)
    (usage,) = trail.calls("beta", "demo")
    assert (end["agent"], end["model"], end["decision"]) == ("beta", "demo", "allow")
    assert end["policies"] == "test.permit-all"
    assert (attempt["provider"], attempt["served model"], attempt["outcome"]) == (
        "mock",
        "mock-1",
        "ok",
    )
    assert (end["outcome"], end["status"]) == ("ok", "200")
    assert (end["tokens in"], end["tokens out"]) == (str(usage.input), str(usage.output))
    assert Decimal(end["cost usd"]) == usage.cost

    answer = trail.dome("audit", "show", call_id, "--output", "json").json()
    assert answer["call_id"] == call_id
    assert [record["kind"] for record in answer["records"]] == ["attempt", "call"]
    assert answer["records"][-1]["output_tokens"] == usage.output

    missing = trail.dome("audit", "show", "call_nope")
    assert missing.result.exit_code == 1
    assert missing.result.stderr.startswith("error: ")
    assert "call_nope" in missing.result.stderr


def spend_rows(trail: Trail, by: str, *args: str) -> dict[str, dict[str, Any]]:
    ran = trail.dome("spend", "report", "--by", by, *args, "--output", "json")
    options = {
        name.removeprefix("--"): value for name, value in zip(args[::2], args[1::2], strict=True)
    }
    assert sent(ran) == [{"by": by, **options}]
    answer = ran.json()
    assert answer["by"] == by
    return {row[by]: row for row in answer["data"]}


def assert_figures(row: dict[str, Any], usages: list[Usage]) -> None:
    input_tokens = sum(usage.input for usage in usages)
    output_tokens = sum(usage.output for usage in usages)
    assert (row["input_tokens"], row["output_tokens"]) == (input_tokens, output_tokens)
    assert row["total_tokens"] == input_tokens + output_tokens
    assert Decimal(row["cost_usd"]) == sum((usage.cost for usage in usages), Decimal(0))


def test_spend_by_agent(trail: Trail) -> None:
    rows = spend_rows(trail, "agent")
    assert set(rows) == {"alpha", "beta"}
    counts = ("calls", "ok", "denied", "failed")
    assert tuple(rows["alpha"][key] for key in counts) == (3, 2, 0, 1)
    assert tuple(rows["beta"][key] for key in counts) == (3, 2, 1, 0)
    for agent, row in rows.items():
        assert_figures(row, trail.calls(agent))

    ran = trail.dome("spend", "report", "--by", "agent")
    assert ran.result.exit_code == 0, ran.result.output
    header, *lines, rule, total = ran.stdout.splitlines()
    assert header.split() == [
        "AGENT", "CALLS", "OK", "DENIED", "FAILED", "INPUT", "OUTPUT", "TOTAL", "COST", "USD",
    ]  # fmt: skip
    assert sorted(line.split()[0] for line in lines) == ["alpha", "beta"]
    for line in lines:
        name, *figures, cost = line.split()
        row = rows[name]
        assert figures == [
            str(row[key]) for key in (*counts, "input_tokens", "output_tokens", "total_tokens")
        ]
        assert cost == row["cost_usd"]  # as the broker wrote it
    assert set(rule) == {"-"}
    everything = trail.calls()
    name, *figures, cost = total.split()
    assert name == "total"
    inputs, outputs = sum(u.input for u in everything), sum(u.output for u in everything)
    assert figures == ["6", "4", "1", "1", str(inputs), str(outputs), str(inputs + outputs)]
    assert Decimal(cost) == sum((u.cost for u in everything), Decimal(0))
    # Figures are right-aligned: every line ends in the same column.
    assert len({len(line) for line in (header, *lines, rule, total)}) == 1


def test_spend_by_model_and_filtered(trail: Trail) -> None:
    rows = spend_rows(trail, "model")
    assert sum(row["calls"] for row in rows.values()) == 6
    assert_figures(rows["demo"], trail.calls(model="demo"))
    assert_figures(rows["cheap"], trail.calls(model="cheap"))
    assert rows["demo"]["calls"] == 3
    assert (rows["cheap"]["cost_usd"], rows["bad"]["failed"]) == ("0", 1)

    betas = spend_rows(trail, "model", "--agent", "beta", "--outcome", "ok")
    assert set(betas) == {"demo", "cheap"}
    assert_figures(betas["demo"], trail.calls("beta", "demo"))

    ran = trail.dome("spend", "report", "--by", "model", "--output", "csv")
    reader = csv.DictReader(io.StringIO(ran.stdout))
    assert reader.fieldnames == [
        "model", "calls", "ok", "denied", "failed", "input_tokens", "output_tokens",
        "total_tokens", "cost_usd",
    ]  # fmt: skip
    assert {line["model"]: line["cost_usd"] for line in reader} == {
        name: row["cost_usd"] for name, row in rows.items()
    }
    empty = trail.dome("spend", "report", "--by", "pool", "--since", "2099-01-01T00:00:00Z")
    assert empty.stdout == "no calls match\n"


def test_verify_ok(trail: Trail) -> None:
    ((records, chains),) = trail.database.rows(
        "SELECT count(*), count(DISTINCT chain) FROM llm_records"
    )
    assert chains == 1
    ran = trail.dome("audit", "verify")
    assert [(request.method, request.url.path) for request in ran.requests] == [
        ("POST", "/admin/v1/audit/verify")
    ]
    assert (ran.result.exit_code, ran.stdout) == (
        0,
        f"ok: {records} records in 1 chain (0 unchained)\n",
    )
    answer = trail.dome("audit", "verify", "--output", "json").json()
    assert answer == {"ok": True, "records": records, "chains": 1, "unchained": 0, "findings": []}


@pytest.mark.parametrize(
    "args",
    [
        ("audit", "query", "--limit", "0"),
        ("audit", "query", "--limit", "10001"),
        ("audit", "query", "--decision", "maybe"),
        ("audit", "query", "--since", "yesterday"),
        ("audit", "query", "--until", "5 days"),
        ("audit", "query", "--agent", " "),
        ("audit", "query", "--output", "xml"),
        ("spend", "report"),
        ("spend", "report", "--by", "colour"),
        ("spend", "report", "--by", "agent", "--since", "7x"),
        ("spend", "report", "--by", "agent", "--decision", "maybe"),
    ],
)
def test_bad_values_are_usage_errors_that_send_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    (tmp_path / "admin-token").write_text("adm-unused\n")
    transport = RecordingTransport()
    context = CliContext(
        transport=transport,
        environ={"DOME_HOME": str(tmp_path), "DOME_URL": "http://127.0.0.1:9"},
    )
    result = CliRunner().invoke(cli, list(args), obj=context)
    assert result.exit_code == 2, result.output
    assert transport.requests == []


def verify_findings(trail: Trail) -> tuple[Ran, list[dict[str, Any]]]:
    ran = trail.dome("audit", "verify", "--output", "json")
    assert ran.result.exit_code == 1, ran.result.output
    answer = json.loads(ran.stdout)
    assert answer["ok"] is False
    return ran, answer["findings"]


@pytest.mark.parametrize("database", DATABASES)
def test_verify_reports_tampering_and_exits_1(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with broker_on(database, tmp_path, request) as (broker, direct):
        trail = Trail(broker, direct)
        admin = broker.admin
        admin.permit_all()
        token = admin.agent("alpha")
        admin.model("demo", "mock", model="mock-1")
        with openai.OpenAI(base_url=broker.url + "/v1", api_key=token, max_retries=0) as client:
            for n in range(4):
                ask(client, "demo", f"question {n}")
        wait_for_calls(broker, 4)
        assert trail.dome("audit", "verify").result.exit_code == 0
        records = direct.rows("SELECT id, chain, seq, kind FROM llm_records ORDER BY seq")
        assert len({chain for _, chain, _, _ in records}) == 1

        # A call's end record whose tokens someone lowered.
        changed_id, chain, changed_seq, _ = next(r for r in records if r[3] == "call")
        direct.execute(
            "UPDATE llm_records SET output_tokens = output_tokens - 1 WHERE id = ?", changed_id
        )
        changed = {
            "chain": chain,
            "seq": changed_seq,
            "record_id": changed_id,
            "problem": "changed",
        }
        ran = trail.dome("audit", "verify")
        assert ran.result.exit_code == 1
        summary, header, line = ran.stdout.splitlines()
        assert summary == f"FAILED: 1 finding over {len(records)} records in 1 chain (0 unchained)"
        assert header.split()[:4] == ["CHAIN", "SEQ", "RECORD", "PROBLEM"]
        assert line.split()[:4] == [chain, str(changed_seq), str(changed_id), "changed"]
        assert verify_findings(trail)[1] == [changed]

        # A record from the middle of the chain, gone.
        deleted_id, _, deleted_seq, _ = records[len(records) // 2]
        assert deleted_seq > changed_seq + 1
        direct.execute("DELETE FROM llm_records WHERE id = ?", deleted_id)
        deleted = {"chain": chain, "seq": deleted_seq, "record_id": None, "problem": "deleted"}
        assert verify_findings(trail)[1] == [changed, deleted]

        # The newest record, gone: only the chain's recorded head (audit_chains) tells.
        newest_id, _, newest_seq, _ = records[-1]
        direct.execute("DELETE FROM llm_records WHERE id = ?", newest_id)
        truncated = {"chain": chain, "seq": newest_seq, "record_id": None, "problem": "truncated"}
        assert verify_findings(trail)[1] == [changed, deleted, truncated]

        # The installed `dome` command, as an operator or a cron job runs it.
        environ = {k: v for k, v in os.environ.items() if not k.startswith("DOME_")}
        environ.update({"DOME_HOME": str(broker.data_dir), "DOME_URL": broker.url})
        process = subprocess.run(
            [sys.executable, "-m", "dome.cli", "audit", "verify"],
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert process.returncode == 1, process.stderr
        problems = [line.split()[3] for line in process.stdout.splitlines()[2:]]
        assert problems == ["changed", "deleted", "truncated"]
