"""`dome agent create|list|revoke`: the Dome token is printed once, on its own line."""

from __future__ import annotations

import json

import pytest

from .fake_admin import NOW, FakeAdminApi
from .harness import Dome, assert_exit

TOKEN = "dome_bot-1_s3cr3t-agent-token"


@pytest.fixture
def workspace(dome: Dome) -> None:
    assert_exit(dome.run("tenant", "create", "acme"), 0)
    assert_exit(dome.run("workspace", "create", "ws", "--tenant", "acme"), 0)


@pytest.mark.usefixtures("workspace")
def test_create_prints_the_token_alone_on_a_line_with_a_note(dome: Dome) -> None:
    result = dome.run("agent", "create", "bot-1", "--workspace", "ws")
    assert_exit(result, 0)
    lines = result.stdout.splitlines()
    assert lines[0] == "created agent bot-1 (workspace ws, tenant acme)"
    assert "shown only this once" in lines[1]
    assert lines[2] == TOKEN
    assert result.stdout.count(TOKEN) == 1


@pytest.mark.usefixtures("workspace")
def test_create_json_includes_the_token(dome: Dome) -> None:
    result = dome.run("agent", "create", "bot-1", "--workspace", "ws", "-o", "json")
    assert_exit(result, 0)
    record = json.loads(result.stdout)
    assert record["token"] == TOKEN
    assert record["status"] == "active"


def test_missing_workspace_option_is_a_usage_error(dome: Dome) -> None:
    result = dome.run("agent", "create", "bot-1")
    assert_exit(result, 2)
    assert "Missing option '--workspace'" in result.stderr


def test_unknown_workspace_is_a_404_error(dome: Dome) -> None:
    result = dome.run("agent", "create", "bot-1", "--workspace", "nope")
    assert_exit(result, 1)
    assert result.stderr == "error: no workspace named 'nope'\n"


@pytest.mark.usefixtures("workspace")
def test_list_shows_the_prefix_never_the_token(dome: Dome) -> None:
    dome.run("agent", "create", "bot-1", "--workspace", "ws")
    table = dome.run("agent", "list")
    assert_exit(table, 0)
    header, row = table.stdout.splitlines()
    assert header.split() == [
        "NAME", "WORKSPACE", "TENANT", "TOKEN", "STATUS", "LABELS", "CLASSIFICATION", "FLOOR",
        "CREATED", "REVOKED",
    ]  # fmt: skip
    assert row.split() == [
        "bot-1", "ws", "acme", TOKEN[:9], "active", "-", "-", "-", "2026-05-09", "07:35:25", "-",
    ]  # fmt: skip
    listed = dome.run("agent", "list", "-o", "json")
    assert TOKEN not in table.output + listed.output
    assert [a["name"] for a in json.loads(listed.stdout)] == ["bot-1"]


@pytest.mark.usefixtures("workspace")
def test_revoke(dome: Dome, api: FakeAdminApi) -> None:
    dome.run("agent", "create", "bot-1", "--workspace", "ws")
    result = dome.run("agent", "revoke", "bot-1")
    assert_exit(result, 0)
    assert "revoked" in result.stdout.splitlines()[1].split()
    assert api.requests[-1].url.path == "/admin/v1/agents/bot-1/revoke"
    as_json = dome.run("agent", "revoke", "bot-1", "-o", "json")
    assert json.loads(as_json.stdout)["revoked_at"] == NOW


def test_revoke_unknown_is_a_404_error(dome: Dome) -> None:
    result = dome.run("agent", "revoke", "ghost")
    assert_exit(result, 1)
    assert result.stderr == "error: no agent named 'ghost'\n"


def test_names_are_escaped_in_paths(dome: Dome, api: FakeAdminApi) -> None:
    dome.run("agent", "revoke", "a/b c")
    assert api.requests[-1].url.raw_path == b"/admin/v1/agents/a%2Fb%20c/revoke"
