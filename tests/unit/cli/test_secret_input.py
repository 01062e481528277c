"""Secrets come from an env var, stdin or a hidden prompt, never argv; never printed."""

from __future__ import annotations

import json

import pytest

from .fake_admin import FakeAdminApi
from .harness import SECRET, SEED, Dome, assert_exit

NEW_SECRET = "sk-ant-ROTATED-0a1b2c3d4e"


def test_seed_command_from_stdin_drops_the_trailing_newline(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(*SEED, "--credential-stdin", input=SECRET + "\n")
    assert_exit(result, 0)
    assert api.secrets["anthropic-prod"] == SECRET
    assert SECRET not in result.output


def test_stdin_drops_a_crlf_and_only_one_newline(dome: Dome, api: FakeAdminApi) -> None:
    dome.run(*SEED, "--credential-stdin", input=SECRET + "\n\r\n")
    assert api.secrets["anthropic-prod"] == SECRET + "\n"


def test_seed_command_prompts_with_hidden_input_on_a_terminal(
    dome: Dome, api: FakeAdminApi
) -> None:
    result = dome.run(*SEED, interactive=True, input=SECRET + "\n")
    assert_exit(result, 0)
    assert api.secrets["anthropic-prod"] == SECRET
    assert "Secret for model anthropic-prod:" in result.output
    assert SECRET not in result.output  # hidden: not echoed


def test_prompt_keeps_json_stdout_clean(dome: Dome) -> None:
    result = dome.run(*SEED, "-o", "json", interactive=True, input=SECRET + "\n")
    assert_exit(result, 0)
    assert json.loads(result.stdout)["has_credential"] is True
    assert "Secret for model anthropic-prod:" in result.stderr
    assert SECRET not in result.output


def test_seed_command_without_a_terminal_or_source_refuses(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(*SEED, input=SECRET + "\n")
    assert_exit(result, 2)
    assert "use --credential-env VAR or --credential-stdin" in result.stderr
    assert "not a terminal" in result.stderr
    assert api.requests == []


@pytest.mark.parametrize("value", [None, ""])
def test_unset_or_empty_env_var_is_an_error(
    dome: Dome, api: FakeAdminApi, value: str | None
) -> None:
    result = dome.run(*SEED, "--credential-env", "NO_SUCH_KEY", env={"NO_SUCH_KEY": value})
    assert_exit(result, 2)
    assert "environment variable NO_SUCH_KEY is not set or is empty" in result.stderr
    assert api.requests == []


def test_empty_stdin_is_an_error(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(*SEED, "--credential-stdin", input="\n")
    assert_exit(result, 2)
    assert "standard input is empty" in result.stderr
    assert api.requests == []


def test_both_sources_is_a_usage_error(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(
        *SEED,
        "--credential-env",
        "K",
        "--credential-stdin",
        env={"K": SECRET},
        input=SECRET,
    )
    assert_exit(result, 2)
    assert "not both" in result.stderr
    assert api.requests == []


def test_there_is_no_argv_option_for_a_secret(dome: Dome) -> None:
    result = dome.run(*SEED, "--credential", SECRET)
    assert_exit(result, 2)
    assert "No such option '--credential'" in result.stderr
    assert SECRET not in result.output


def test_a_secret_given_as_the_env_var_name_is_not_echoed(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(*SEED, "--credential-env", SECRET)
    assert_exit(result, 2)
    assert "name of an environment variable, not the secret itself" in result.stderr
    assert SECRET not in result.output
    assert api.requests == []


@pytest.fixture
def stored(dome: Dome) -> None:
    assert_exit(dome.run(*SEED, "--credential-env", "K", env={"K": SECRET}), 0)


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("source", "stdin", "interactive"),
    [
        (("--credential-env", "NEW"), None, False),
        (("--credential-stdin",), NEW_SECRET + "\n", False),
        ((), NEW_SECRET + "\n", True),
    ],
    ids=["env", "stdin", "prompt"],
)
def test_set_credential_rotates_the_secret(
    dome: Dome,
    api: FakeAdminApi,
    source: tuple[str, ...],
    stdin: str | None,
    interactive: bool,
) -> None:
    result = dome.run(
        "model", "set-credential", "anthropic-prod", *source,
        input=stdin, interactive=interactive, env={"NEW": NEW_SECRET},
    )  # fmt: skip
    assert_exit(result, 0)
    assert api.requests[-1].method == "PUT"
    assert api.requests[-1].url.path == "/admin/v1/models/anthropic-prod/credential"
    assert json.loads(api.requests[-1].content) == {"credential": NEW_SECRET}
    assert api.secrets["anthropic-prod"] == NEW_SECRET
    assert "has credential     yes" in result.stdout
    assert NEW_SECRET not in result.output


@pytest.mark.usefixtures("stored")
def test_set_credential_json(dome: Dome) -> None:
    result = dome.run(
        "model", "set-credential", "anthropic-prod", "--credential-stdin", "-o", "json",
        input=NEW_SECRET,
    )  # fmt: skip
    assert_exit(result, 0)
    assert json.loads(result.stdout)["has_credential"] is True
    assert NEW_SECRET not in result.output


@pytest.mark.usefixtures("stored")
def test_set_credential_without_a_terminal_or_source_refuses(dome: Dome, api: FakeAdminApi) -> None:
    before = len(api.requests)
    result = dome.run("model", "set-credential", "anthropic-prod")
    assert_exit(result, 2)
    assert "--credential-stdin" in result.stderr
    assert len(api.requests) == before


def test_set_credential_on_an_unknown_model_is_a_404_error(dome: Dome) -> None:
    result = dome.run("model", "set-credential", "ghost", "--credential-stdin", input=SECRET)
    assert_exit(result, 1)
    assert result.stderr == "error: no model named 'ghost'\n"
    assert SECRET not in result.output


def test_a_whole_session_never_prints_the_secret(dome: Dome) -> None:
    runs = [
        dome.run(*SEED, interactive=True, input=SECRET + "\n"),
        dome.run(*SEED, "--credential-stdin", input=SECRET),  # 409
        dome.run("model", "list"),
        dome.run("model", "list", "-o", "json"),
        dome.run("model", "show", "anthropic-prod"),
        dome.run("model", "show", "anthropic-prod", "-o", "json"),
        dome.run("model", "set-credential", "anthropic-prod", "--credential-env", "K",
                 env={"K": SECRET}),
        dome.run("admin", "rotate-master-key"),
        dome.run("model", "show", "anthropic-prod", "-o", "json"),
    ]  # fmt: skip
    assert [r.exit_code for r in runs] == [0, 1, 0, 0, 0, 0, 0, 0, 0]
    for result in runs:
        assert SECRET not in result.stdout
        assert SECRET not in result.stderr
