"""The CLI's expected failures: each prints `error: <message>`, exits 1, no traceback.

Usage mistakes stay click's own `UsageError` (exit 2). Messages never carry a token
or a secret.
"""

from __future__ import annotations

from typing import IO, Any

import click


class CliError(click.ClickException):
    """Root of the CLI's expected errors; click shows it and exits with `exit_code`."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", file=file, err=file is None)


class AdminTokenMissingError(CliError):
    """Neither `DOME_ADMIN_TOKEN` nor `<data-dir>/admin-token` holds a token."""


class ConnectionSettingsError(CliError):
    """A connection setting is unusable: unreadable file, malformed URL or token."""


class BrokerUnreachableError(CliError):
    """The broker did not answer: connection refused, reset or timed out."""


class AdminApiError(CliError):
    """The admin API answered with an error body (docs/admin-api.md)."""

    def __init__(self, message: str, *, status_code: int, error_type: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_type = error_type
