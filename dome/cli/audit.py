"""`dome audit tail`: the latest records of `GET /admin/v1/audit`, or a follow."""

from __future__ import annotations

import click

from dome.cli.client import AdminClient, JsonObject, admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import OutputFormat, echo_json, echo_json_line, output_option
from dome.cli.table import Column, render_table

MAX_LIMIT = 1000  # the API's cap on `limit`
POLL_SECONDS = 1.0
# Each --follow poll asks for this many records, so a burst between polls is not lost.
FOLLOW_WINDOW = 100

COLUMNS = (
    Column("TIME", "started_at", "time", min_width=19),
    Column("CALL", "call_id", min_width=12),
    Column("AGENT", "agent", min_width=10),
    Column("MODEL", "requested_model", min_width=14),
    Column("PROVIDER", "provider", min_width=9),
    Column("STATUS", "status", min_width=6),
    Column("POLICY", "decision", min_width=6),
    Column("MS", "latency_ms", min_width=6),
    Column("TTFT", "ttft_ms", min_width=6),
    Column("IN", "input_tokens", min_width=6),
    Column("OUT", "output_tokens"),
)


@click.group()
def audit() -> None:
    """Read the audit trail: one record per call through the broker."""


@audit.command("tail")
@click.option(
    "-n",
    "--lines",
    "count",
    type=click.IntRange(1, MAX_LIMIT),
    default=20,
    show_default=True,
    help="How many of the latest records to show.",
)
@click.option(
    "-f",
    "--follow",
    is_flag=True,
    help="Poll every second for new records until Ctrl-C.",
)
@output_option
@pass_session
def tail(session: Session, count: int, follow: bool, output: str | None) -> None:
    """Show the latest audit records as a table, oldest first and newest last.

    --output json prints the API's array as is (newest first); with --follow it
    prints one JSON record per line (JSON Lines), oldest first.
    """
    output_format = session.output_format(output)
    with session.client() as client:
        if follow:
            _follow(session, client, count, output_format)
            return
        records = _fetch(client, count)
    if output_format == "json":
        echo_json(records)
    elif records:
        click.echo(render_table(COLUMNS, records[::-1]))
    else:
        click.echo("no audit records")


def _fetch(client: AdminClient, limit: int) -> list[JsonObject]:
    return client.get_list(admin_path("audit"), params={"limit": limit})


def _follow(session: Session, client: AdminClient, count: int, output: OutputFormat) -> None:
    """Print the latest `count`, then each poll's unseen call ids, until Ctrl-C."""
    window = max(count, FOLLOW_WINDOW)
    records = _fetch(client, window)
    _print_batch(records[:count][::-1], output, header=True)
    seen = {record.get("call_id") for record in records}
    try:
        while True:
            session.context.sleep(POLL_SECONDS)
            records = _fetch(client, window)
            fresh = [record for record in records if record.get("call_id") not in seen]
            # The window only moves forward, so remembering its ids is enough.
            seen = {record.get("call_id") for record in records}
            _print_batch(fresh[::-1], output, header=False)
    except KeyboardInterrupt:
        return


def _print_batch(records: list[JsonObject], output: OutputFormat, *, header: bool) -> None:
    if output == "json":
        for record in records:
            echo_json_line(record)
    elif records or header:
        click.echo(render_table(COLUMNS, records, header=header))
