"""`dome tenant create|list`, and the `--output` rules every listing shares."""

from __future__ import annotations

import json

from .fake_admin import NOW, FakeAdminApi
from .harness import Dome, assert_exit


def test_create_prints_the_new_tenant_as_a_table(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run("tenant", "create", "acme")
    assert_exit(result, 0)
    assert result.stdout.splitlines() == [
        "NAME  REGION  CREATED",
        "acme  -       2026-05-09 07:35:25",
    ]
    assert list(api.tenants) == ["acme"]


def test_create_json_is_the_api_record(dome: Dome) -> None:
    result = dome.run("tenant", "create", "acme", "--output", "json")
    assert_exit(result, 0)
    assert json.loads(result.stdout) == {"name": "acme", "region": None, "created_at": NOW}


def test_list_table(dome: Dome) -> None:
    dome.run("tenant", "create", "acme")
    dome.run("tenant", "create", "globex-corp")
    result = dome.run("tenant", "list")
    assert_exit(result, 0)
    assert result.stdout.splitlines() == [
        "NAME         REGION  CREATED",
        "acme         -       2026-05-09 07:35:25",
        "globex-corp  -       2026-05-09 07:35:25",
    ]


def test_list_json_is_an_array_of_records_and_nothing_else(dome: Dome) -> None:
    dome.run("tenant", "create", "acme")
    result = dome.run("tenant", "list", "-o", "json")
    assert_exit(result, 0)
    assert json.loads(result.stdout) == [{"name": "acme", "region": None, "created_at": NOW}]


def test_empty_list(dome: Dome) -> None:
    assert dome.run("tenant", "list").stdout == "no tenants\n"
    assert json.loads(dome.run("tenant", "list", "-o", "json").stdout) == []


def test_group_level_output_applies_to_the_command(dome: Dome) -> None:
    dome.run("tenant", "create", "acme")
    result = dome.run("--output", "json", "tenant", "list")
    assert_exit(result, 0)
    assert json.loads(result.stdout) == [{"name": "acme", "region": None, "created_at": NOW}]


def test_command_output_beats_group_output(dome: Dome) -> None:
    dome.run("tenant", "create", "acme")
    result = dome.run("--output", "json", "tenant", "list", "--output", "table")
    assert result.stdout.startswith("NAME")


def test_unknown_output_format_is_a_usage_error(dome: Dome) -> None:
    result = dome.run("tenant", "list", "--output", "yaml")
    assert_exit(result, 2)
    assert "Invalid value for '--output'" in result.stderr


def test_duplicate_is_a_409_error(dome: Dome) -> None:
    dome.run("tenant", "create", "acme")
    result = dome.run("tenant", "create", "acme")
    assert_exit(result, 1)
    assert result.stderr == "error: tenant 'acme' already exists\n"
    assert result.stdout == ""
