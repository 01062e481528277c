"""`dome model add|list|show|remove`: arguments, defaults, what is sent and printed."""

from __future__ import annotations

import json

import pytest

from .fake_admin import NOW, FakeAdminApi
from .harness import SECRET, SEED, Dome, assert_exit


def sent_body(api: FakeAdminApi) -> dict[str, object]:
    body: dict[str, object] = json.loads(api.requests[-1].content)
    return body


def test_seed_command_with_credential_env(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(*SEED, "--credential-env", "ANTHROPIC_KEY", env={"ANTHROPIC_KEY": SECRET})
    assert_exit(result, 0)
    assert sent_body(api) == {
        "name": "anthropic-prod",
        "provider": "anthropic",
        "model": "claude-sonnet-4-6",
        "auth_method": "api-key",
        "credential_type": "shared",
        "credential": SECRET,
    }
    assert SECRET not in result.output
    assert "has credential     yes" in result.stdout
    assert "credential key id  k1" in result.stdout


def test_add_json_is_the_api_record(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(*SEED, "--credential-env", "K", "-o", "json", env={"K": SECRET})
    assert_exit(result, 0)
    assert json.loads(result.stdout) == api.models["anthropic-prod"]
    assert SECRET not in result.output


def test_mock_needs_no_secret_and_defaults_to_none(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run("model", "add", "sim", "--provider", "mock")
    assert_exit(result, 0)
    assert sent_body(api) == {
        "name": "sim",
        "provider": "mock",
        "auth_method": "none",
        "credential_type": "none",
    }
    assert "has credential     no" in result.stdout


def test_openai_defaults_to_api_key_and_needs_a_secret(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(
        "model",
        "add",
        "gpt",
        "--provider",
        "openai",
        "--credential-stdin",
        input=SECRET,
    )
    assert_exit(result, 0)
    assert sent_body(api)["auth_method"] == "api-key"
    assert sent_body(api)["credential_type"] == "shared"


def test_openai_compatible_key_is_optional(dome: Dome, api: FakeAdminApi) -> None:
    args = ("model", "add", "llama", "--provider", "openai-compatible")
    result = dome.run(*args, "--base-url", "http://127.0.0.1:9000/v1")
    assert_exit(result, 0)
    assert sent_body(api) == {
        "name": "llama",
        "provider": "openai-compatible",
        "auth_method": "none",
        "credential_type": "none",
        "base_url": "http://127.0.0.1:9000/v1",
    }


def test_openai_compatible_with_a_secret_source_uses_api_key(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(
        "model", "add", "llama", "--provider", "openai-compatible",
        "--base-url", "http://127.0.0.1:9000", "--credential-env", "K",
        env={"K": SECRET},
    )  # fmt: skip
    assert_exit(result, 0)
    assert sent_body(api)["auth_method"] == "api-key"
    assert sent_body(api)["credential_type"] == "shared"
    assert api.secrets["llama"] == SECRET


def test_openai_compatible_explicit_api_key_requires_a_secret(
    dome: Dome, api: FakeAdminApi
) -> None:
    result = dome.run(
        "model", "add", "llama", "--provider", "openai-compatible",
        "--base-url", "http://127.0.0.1:9000", "--auth-method", "api-key",
    )  # fmt: skip
    assert_exit(result, 2)
    assert "--credential-env" in result.stderr
    assert api.requests == []


def test_secret_source_with_auth_none_is_a_usage_error(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(
        "model", "add", "sim", "--provider", "mock", "--auth-method", "none",
        "--credential-env", "K", env={"K": SECRET},
    )  # fmt: skip
    assert_exit(result, 2)
    assert "needs --auth-method api-key" in result.stderr
    assert api.requests == []


def test_explicit_credential_type_is_sent_as_given(dome: Dome, api: FakeAdminApi) -> None:
    dome.run(
        *SEED[:-2],
        "--credential-type",
        "none",
        "--credential-env",
        "K",
        env={"K": SECRET},
    )
    assert sent_body(api)["credential_type"] == "none"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--provider", "bedrock"), "Invalid value for '--provider'"),
        ((), "Missing option '--provider'"),
        (
            ("--provider", "mock", "--auth-method", "oauth"),
            "Invalid value for '--auth-method'",
        ),
    ],
)
def test_bad_arguments_are_usage_errors(
    dome: Dome, api: FakeAdminApi, args: tuple[str, ...], message: str
) -> None:
    result = dome.run("model", "add", "m", *args)
    assert_exit(result, 2)
    assert message in result.stderr
    assert api.requests == []


def test_api_rule_violation_is_a_400_error(dome: Dome) -> None:
    result = dome.run("model", "add", "llama", "--provider", "openai-compatible")
    assert_exit(result, 1)
    assert result.stderr == "error: base_url: required for openai-compatible\n"


def test_duplicate_is_a_409_error_without_the_secret(dome: Dome) -> None:
    env = {"K": SECRET}
    dome.run(*SEED, "--credential-env", "K", env=env)
    result = dome.run(*SEED, "--credential-env", "K", env=env)
    assert_exit(result, 1)
    assert result.stderr == "error: model 'anthropic-prod' already exists\n"
    assert SECRET not in result.output


@pytest.fixture
def models(dome: Dome) -> None:
    assert_exit(dome.run(*SEED, "--credential-env", "K", env={"K": SECRET}), 0)
    assert_exit(dome.run("model", "add", "sim", "--provider", "mock"), 0)


@pytest.mark.usefixtures("models")
def test_list_table(dome: Dome) -> None:
    result = dome.run("model", "list")
    assert_exit(result, 0)
    header, first, second = result.stdout.splitlines()
    assert header.split() == [
        "NAME", "PROVIDER", "MODEL", "BASE", "URL", "AUTH", "CREDENTIAL", "KEY", "ID",
        "REGION", "TIER", "FAMILY", "IN", "$/M", "OUT", "$/M", "UPDATED",
    ]  # fmt: skip
    assert first.split() == [
        "anthropic-prod", "anthropic", "claude-sonnet-4-6", "-", "api-key", "yes", "k1",
        "-", "standard", "claude-sonnet-4-6", "-", "-", "2026-05-09", "07:35:25",
    ]  # fmt: skip
    assert second.split()[:7] == ["sim", "mock", "sim", "-", "none", "no", "-"]
    assert SECRET not in result.output


@pytest.mark.usefixtures("models")
def test_list_json(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run("model", "list", "--output", "json")
    assert_exit(result, 0)
    assert json.loads(result.stdout) == list(api.models.values())


def test_empty_list(dome: Dome) -> None:
    assert dome.run("model", "list").stdout == "no models\n"


@pytest.mark.usefixtures("models")
def test_show_table_never_shows_the_secret(dome: Dome) -> None:
    result = dome.run("model", "show", "anthropic-prod")
    assert_exit(result, 0)
    assert result.stdout.splitlines() == [
        "name               anthropic-prod",
        "provider           anthropic",
        "model              claude-sonnet-4-6",
        "base url           -",
        "auth method        api-key",
        "credential type    shared",
        "has credential     yes",
        "credential key id  k1",
        "region             -",
        "tier               standard",
        "family             claude-sonnet-4-6",
        "input price        -",
        "output price       -",
        "created            2026-05-09 07:35:25",
        "updated            2026-05-09 07:35:25",
    ]
    assert SECRET not in result.output


@pytest.mark.usefixtures("models")
def test_show_json(dome: Dome) -> None:
    result = dome.run("model", "show", "sim", "-o", "json")
    assert_exit(result, 0)
    record = json.loads(result.stdout)
    assert record["has_credential"] is False
    assert record["credential_key_id"] is None
    assert record["updated_at"] == NOW


def test_show_unknown_is_a_404_error(dome: Dome) -> None:
    result = dome.run("model", "show", "ghost")
    assert_exit(result, 1)
    assert result.stderr == "error: no model named 'ghost'\n"


@pytest.mark.usefixtures("models")
def test_remove(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run("model", "remove", "sim")
    assert_exit(result, 0)
    assert result.stdout == "removed model sim\n"
    assert api.requests[-1].method == "DELETE"
    assert "sim" not in api.models


@pytest.mark.usefixtures("models")
def test_remove_json_prints_nothing(dome: Dome) -> None:
    result = dome.run("model", "remove", "sim", "-o", "json")
    assert_exit(result, 0)
    assert result.stdout == ""


def test_remove_unknown_is_a_404_error(dome: Dome) -> None:
    result = dome.run("model", "remove", "ghost")
    assert_exit(result, 1)
    assert result.stderr == "error: no model named 'ghost'\n"
