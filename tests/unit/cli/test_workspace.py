"""`dome workspace create|list`."""

from __future__ import annotations

import json

from .fake_admin import NOW, FakeAdminApi
from .harness import Dome, assert_exit


def test_create_sends_name_and_tenant(dome: Dome, api: FakeAdminApi) -> None:
    dome.run("tenant", "create", "acme")
    result = dome.run("workspace", "create", "research", "--tenant", "acme")
    assert_exit(result, 0)
    assert result.stdout.splitlines() == [
        "NAME      TENANT  RESIDENCY  MAX         CLASSIFICATION  FLOOR  REGION  CREATED",
        "research  acme    -          restricted  -               -      -       2026-05-09 07:35:25",
    ]
    assert json.loads(api.requests[-1].content) == {
        "name": "research",
        "tenant": "acme",
    }


def test_create_json(dome: Dome) -> None:
    dome.run("tenant", "create", "acme")
    result = dome.run("workspace", "create", "research", "--tenant", "acme", "-o", "json")
    assert_exit(result, 0)
    assert json.loads(result.stdout) == {
        "name": "research",
        "tenant": "acme",
        "residency": "",
        "max_classification": "restricted",
        "classification_default": None,
        "classification_floor": None,
        "region": None,
        "created_at": NOW,
    }


def test_missing_tenant_option_is_a_usage_error(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run("workspace", "create", "research")
    assert_exit(result, 2)
    assert "Missing option '--tenant'" in result.stderr
    assert api.requests == []


def test_unknown_tenant_is_a_404_error(dome: Dome) -> None:
    result = dome.run("workspace", "create", "research", "--tenant", "nope")
    assert_exit(result, 1)
    assert result.stderr == "error: no tenant named 'nope'\n"


def test_list_table_and_json(dome: Dome) -> None:
    dome.run("tenant", "create", "acme")
    dome.run("workspace", "create", "research", "--tenant", "acme")
    table = dome.run("workspace", "list")
    assert_exit(table, 0)
    assert table.stdout.splitlines()[1].split() == [
        "research",
        "acme",
        "-",
        "restricted",
        "-",
        "-",
        "-",
        "2026-05-09",
        "07:35:25",
    ]
    listed = json.loads(dome.run("workspace", "list", "-o", "json").stdout)
    assert [(w["name"], w["tenant"], w["created_at"]) for w in listed] == [
        ("research", "acme", NOW)
    ]
    assert dome.run("workspace", "list").stdout.startswith("NAME")


def test_empty_list(dome: Dome) -> None:
    assert dome.run("workspace", "list").stdout == "no workspaces\n"
