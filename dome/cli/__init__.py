"""The `dome` command line: a client of the admin API and nothing else.

`main` is the console-script entry point (`dome = "dome.cli:main"` in pyproject.toml).
"""

from __future__ import annotations

import importlib
import importlib.util

from dome.cli.app import cli
from dome.cli.context import CliContext, Session

__all__ = ["CliContext", "Session", "cli", "main"]

SERVE_MODULE = "dome.cli.serve"


def main() -> None:
    """Run `dome` with the process's real stdin, environment and network."""
    # `dome serve` lives in dome/cli/serve.py, owned with the server: importing it
    # registers the command on `dome.cli.app.cli` through `@cli.command()`. It is
    # imported here, at the entry point only, so the admin commands (and tests that
    # invoke `cli` directly) never load server code, and `dome` still works in a tree
    # where serve.py does not exist yet.
    _import_if_present(SERVE_MODULE)
    cli.main(obj=CliContext(), prog_name="dome")


def _import_if_present(name: str) -> bool:
    """Import module `name` if it can be found; return whether it was."""
    if importlib.util.find_spec(name) is None:
        return False
    importlib.import_module(name)
    return True
