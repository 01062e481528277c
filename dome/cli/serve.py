"""`dome serve`: run the broker. The one command that is not an admin API client."""

from __future__ import annotations

from pathlib import Path

import click

from dome.cli.app import cli
from dome.cli.context import Session, pass_session
from dome.errors import DomeError


@cli.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory (default: $DOME_HOME or ~/.dome).",
)
@click.option("--host", default=None, help="Listen address (default 127.0.0.1).")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Listen port (default 8480).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default=None,
)
@pass_session
def serve(
    session: Session,
    data_dir: Path | None,
    host: str | None,
    port: int | None,
    log_level: str | None,
) -> None:
    """Run the broker on the embedded default (SQLite in the data directory)."""
    # Imported here so the admin commands never load the server and start fast.
    from dome import settings as settings_module  # noqa: PLC0415
    from dome.server import serve_forever  # noqa: PLC0415

    try:
        settings = settings_module.load(
            session.context.environ,
            data_dir=data_dir or session.data_dir_flag,
            host=host,
            port=port,
            log_level=log_level,
        )
    except DomeError as error:
        raise click.ClickException(error.message) from error
    serve_forever(settings)
