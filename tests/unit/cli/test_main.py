"""The entry point: `main` loads `dome serve` from dome/cli/serve.py when it exists."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import dome.cli
from dome.cli import _import_if_present, cli, main

PLUGIN = "dome_cli_test_plugin"


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module that registers a command on `cli` the way serve.py does."""
    (tmp_path / f"{PLUGIN}.py").write_text(
        "from dome.cli.app import cli\n\n"
        "@cli.command('plugged')\n"
        "def plugged() -> None:\n"
        "    '''A command added by import.'''\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield PLUGIN
    cli.commands.pop("plugged", None)
    sys.modules.pop(PLUGIN, None)


def test_a_present_module_is_imported_and_registers_its_command(plugin: str) -> None:
    assert _import_if_present(plugin) is True
    assert "plugged" in cli.commands


def test_an_absent_module_is_skipped() -> None:
    assert _import_if_present("dome.cli.no_such_module") is False


def test_main_imports_the_serve_module_then_runs(
    plugin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(dome.cli, "SERVE_MODULE", plugin)
    monkeypatch.setattr(sys, "argv", ["dome", "--help"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 0
    assert "plugged" in capsys.readouterr().out
