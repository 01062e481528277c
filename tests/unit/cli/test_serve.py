"""`dome serve` turns flags, the group's --data-dir and the environment into settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import dome.server
from dome.cli import CliContext, cli
from dome.cli import serve as _serve  # noqa: F401 - registers the command
from dome.settings import Settings


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    calls: list[Settings] = []
    monkeypatch.setattr(dome.server, "serve_forever", calls.append)
    return calls


def test_flags_and_group_data_dir(tmp_path: Path, served: list[Settings]) -> None:
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(tmp_path), "serve", "--port", "9123", "--host", "127.0.0.9"],
        obj=CliContext(environ={}),
    )
    assert result.exit_code == 0, result.output
    (settings,) = served
    assert (settings.data_dir, settings.port, settings.host) == (
        tmp_path.resolve(),
        9123,
        "127.0.0.9",
    )


def test_environment_is_the_injected_one(tmp_path: Path, served: list[Settings]) -> None:
    result = CliRunner().invoke(
        cli, ["serve"], obj=CliContext(environ={"DOME_HOME": str(tmp_path), "DOME_PORT": "7001"})
    )
    assert result.exit_code == 0, result.output
    assert (served[0].data_dir, served[0].port) == (tmp_path.resolve(), 7001)


def test_bad_port_is_a_usage_error(served: list[Settings]) -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "99999"], obj=CliContext(environ={}))
    assert result.exit_code == 2
    assert not served


def test_bad_environment_is_a_clear_error(served: list[Settings]) -> None:
    result = CliRunner().invoke(cli, ["serve"], obj=CliContext(environ={"DOME_PORT": "eighty"}))
    assert result.exit_code == 1
    assert "DOME_PORT must be an integer" in result.output
    assert "Traceback" not in result.output
