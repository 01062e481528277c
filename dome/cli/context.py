"""Per-invocation state of `dome`: what callers inject and what the root group parsed.

Tests inject by passing a `CliContext` as click's `obj`; there is no module-level state.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import click
import httpx

from dome.cli.client import AdminClient
from dome.cli.connection import Connection, resolve_connection, resolve_data_dir
from dome.cli.output import OutputFormat, parse_output_format


def _stdin_is_terminal() -> bool:
    # `sys.stdin` at call time: click's CliRunner swaps it for its input stream.
    return sys.stdin is not None and sys.stdin.isatty()


def _process_environ() -> Mapping[str, str]:
    # The live mapping, read when a setting is resolved: the CLI's only env access.
    return os.environ


@dataclass(frozen=True, slots=True)
class CliContext:
    """The outside world as the CLI sees it; tests replace any part.

    Attributes:
        transport: carries admin API requests; None means a real network transport.
        environ: where `DOME_HOME`, `DOME_URL`, `DOME_ADMIN_TOKEN` and the
            `--credential-env` variables are looked up.
        is_interactive: whether a secret may be prompted for (stdin is a terminal).
        sleep: the pause between `audit tail --follow` polls.

    """

    transport: httpx.BaseTransport | None = None
    environ: Mapping[str, str] = field(default_factory=_process_environ)
    is_interactive: Callable[[], bool] = _stdin_is_terminal
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True, slots=True)
class Session:
    """The root group's options plus the injected context; commands receive it.

    Connection settings are resolved on first use, so commands that need no broker
    (`--help`, `dome serve`) work without a token.
    """

    context: CliContext
    data_dir_flag: Path | None = None
    url_flag: str | None = None
    output: OutputFormat | None = None

    def data_dir(self) -> Path:
        return resolve_data_dir(self.data_dir_flag, self.context.environ)

    def connection(self) -> Connection:
        return resolve_connection(
            data_dir_flag=self.data_dir_flag,
            url_flag=self.url_flag,
            environ=self.context.environ,
        )

    def client(self) -> AdminClient:
        return AdminClient(self.connection(), transport=self.context.transport)

    def output_format(self, command_output: str | None) -> OutputFormat:
        """Pick the command's `--output`, else the group's, else table."""
        return parse_output_format(command_output) or self.output or "table"


pass_session = click.make_pass_decorator(Session)
