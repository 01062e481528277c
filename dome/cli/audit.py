"""`dome audit tail|query|show|verify`: the audit trail through `/admin/v1/audit*`.

Filters and limits are checked here, so a bad one is a usage error and nothing is sent;
the broker checks the same rules (docs/audit.md). `dome spend report` shares the filter
options and the CSV output defined here.
"""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Literal, TypeVar
from urllib.parse import urlencode

import click

from dome.cli.client import AdminClient, JsonObject, admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import OutputFormat, echo_json, echo_json_line, output_option
from dome.cli.table import Column, format_cell, render_fields, render_table

MAX_LIMIT = 1000  # the API's cap on `limit` of `GET /admin/v1/audit`
QUERY_LIMIT = 10_000  # the API's cap on `limit` of `GET /admin/v1/audit/calls`
POLL_SECONDS = 1.0
# Each --follow poll asks for this many records, so a burst between polls is not lost.
FOLLOW_WINDOW = 100
DECISIONS = ("allow", "deny")
# As the broker reads `since` and `until`: a span back from now, else ISO 8601.
_SPAN = re.compile(r"\d{1,6}[smhdw]")

TabularFormat = Literal["table", "json", "csv"]
TABULAR_FORMATS: tuple[TabularFormat, ...] = ("table", "json", "csv")
F = TypeVar("F", bound=Callable[..., object])

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
QUERY_COLUMNS = (
    Column("TIME", "started_at", "time"),
    Column("CALL", "call_id"),
    Column("AGENT", "agent"),
    Column("MODEL", "requested_model"),
    Column("OUTCOME", "outcome"),
    Column("STATUS", "status"),
    Column("IN", "input_tokens"),
    Column("OUT", "output_tokens"),
    Column("COST USD", "cost_usd"),
    Column("MS", "latency_ms"),
)
START_FIELDS = (
    Column("agent", "agent"),
    Column("workspace", "workspace"),
    Column("tenant", "tenant"),
    Column("endpoint", "endpoint"),
    Column("format", "format_in"),
    Column("model", "requested_model"),
    Column("stream", "stream", "flag"),
    Column("decision", "decision"),
    Column("policies", "policy_ids", "list"),
    Column("policy version", "policy_version"),
    Column("budget", "budget"),
)
ATTEMPT_FIELDS = (
    Column("model entry", "model_entry"),
    Column("provider", "provider"),
    Column("served model", "served_model"),
    Column("region", "region"),
    Column("outcome", "outcome"),
    Column("status", "status"),
    Column("why", "detail"),
    Column("ms", "latency_ms"),
    Column("ttft ms", "ttft_ms"),
    Column("tokens in", "input_tokens"),
    Column("tokens out", "output_tokens"),
    Column("tokens total", "total_tokens"),
    Column("cost usd", "cost_usd"),
)
END_FIELDS = (
    Column("agent", "agent"),
    Column("model", "requested_model"),
    Column("outcome", "outcome"),
    Column("status", "status"),
    Column("error", "error_type"),
    Column("model entry", "model_entry"),
    Column("served model", "served_model"),
    Column("provider", "provider"),
    Column("pool", "pool"),
    Column("format out", "format_out"),
    Column("ms", "latency_ms"),
    Column("ttft ms", "ttft_ms"),
    Column("tokens in", "input_tokens"),
    Column("tokens out", "output_tokens"),
    Column("cache read", "cache_read_tokens"),
    Column("cache write", "cache_write_tokens"),
    Column("reasoning", "reasoning_tokens"),
    Column("tokens total", "total_tokens"),
    Column("estimated", "usage_estimated", "flag"),
    Column("cost usd", "cost_usd"),
    Column("decision", "decision"),
    Column("policies", "policy_ids", "list"),
    Column("budget", "budget"),
    Column("budget ceiling", "budget_ceiling"),
)
# kind -> (title, fields) for `audit show`; the record kinds of docs/audit.md.
RECORD_KINDS = {
    "call_started": ("start", START_FIELDS),
    "attempt": ("attempt", ATTEMPT_FIELDS),
    "call": ("end", END_FIELDS),
}
FINDING_COLUMNS = (
    Column("CHAIN", "chain"),
    Column("SEQ", "seq"),
    Column("RECORD", "record_id"),
    Column("PROBLEM", "problem"),
    Column("MEANING", "meaning"),
)
PROBLEMS = {
    "changed": "the record no longer matches its hash",
    "deleted": "the record with this seq is missing",
    "inserted": "the record does not follow its predecessor",
    "truncated": "records up to this seq (the chain's head) are missing",
    "unanchored": "the chain has no recorded head",
}


def check_filter(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback: a filter value must not be blank (the API rejects it)."""
    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter("give a non-empty value", param=param)
    return value.strip()


def check_time(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback: an ISO 8601 time or a span back from now (30m, 24h, 7d, 2w); sent
    as given, so a span is measured on the broker's clock."""
    if value is None:
        return None
    text = value.strip()
    if not _SPAN.fullmatch(text):
        try:
            datetime.fromisoformat(text)
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not an ISO 8601 time (e.g. 2026-11-27T09:00:00Z) or a span "
                "such as 30m, 24h, 7d or 2w",
                param=param,
            ) from None
    return text


def filter_options(command: F) -> F:
    """Add the call filters of `GET /admin/v1/audit/calls` and `/spend` as options; the
    command receives them as keyword arguments (None when not given)."""
    options = (
        click.option("--agent", callback=check_filter, metavar="NAME", help="Calls of agent NAME."),
        click.option(
            "--workspace", callback=check_filter, metavar="NAME", help="Calls of workspace NAME."
        ),
        click.option(
            "--tenant", callback=check_filter, metavar="NAME", help="Calls of tenant NAME."
        ),
        click.option(
            "--model",
            callback=check_filter,
            metavar="NAME",
            help="Calls that asked for NAME or were served by model entry NAME.",
        ),
        click.option(
            "--provider",
            callback=check_filter,
            metavar="KIND",
            help="Calls served by a provider of KIND, e.g. anthropic.",
        ),
        click.option(
            "--pool", callback=check_filter, metavar="NAME", help="Calls pool NAME served."
        ),
        click.option(
            "--outcome",
            callback=check_filter,
            metavar="OUTCOME",
            help="Calls that ended so: ok, denied_policy, denied_budget, upstream_error, "
            "timeout, rejected, incomplete, ...",
        ),
        click.option(
            "--decision", type=click.Choice(DECISIONS), help="Calls that policy allowed or denied."
        ),
        click.option(
            "--since",
            callback=check_time,
            metavar="TIME",
            help="Calls started at or after TIME: ISO 8601 (UTC unless it says) or a span "
            "back from now such as 30m, 24h, 7d, 2w.",
        ),
        click.option(
            "--until", callback=check_time, metavar="TIME", help="Calls started before TIME."
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


def tabular_output_option(command: F) -> F:
    """`--output/-o table|json|csv`, passed as `output` (None when not given)."""
    return click.option(
        "--output",
        "-o",
        "output",
        type=click.Choice(TABULAR_FORMATS),
        default=None,
        help="table (default) for people, json or csv for scripts.",
    )(command)


def tabular_format(session: Session, output: str | None) -> TabularFormat:
    return "csv" if output == "csv" else session.output_format(output)


def with_query(path: str, query: Mapping[str, object]) -> str:
    """`path?query` with the given (not None) values."""
    given = {name: value for name, value in query.items() if value is not None}
    return f"{path}?{urlencode(given)}" if given else path


def echo_csv(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> None:
    """Print a header and one line per row; lists and objects as compact JSON, null empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_csv_cell(row.get(column)) for column in columns] for row in rows)
    click.echo(buffer.getvalue(), nl=False)


def row_columns(rows: Sequence[Mapping[str, object]]) -> list[str]:
    """Every key of `rows`, in the order the rows first name them."""
    return list(dict.fromkeys(key for row in rows for key in row))


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


@click.group()
def audit() -> None:
    """Read and verify the audit trail: every call through the broker."""


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


@audit.command("query")
@filter_options
@click.option(
    "--limit",
    type=click.IntRange(1, QUERY_LIMIT),
    default=100,
    show_default=True,
    help="At most this many calls, the newest.",
)
@tabular_output_option
@pass_session
def query(session: Session, /, limit: int, output: str | None, **filters: str | None) -> None:
    """Calls matching every filter given, newest first: one line per call.

    --output json prints the API's rows as is; csv prints every column of them.
    """
    path = with_query(admin_path("audit", "calls"), {**filters, "limit": limit})
    with session.client() as client:
        rows = client.get_list(path)
    output_format = tabular_format(session, output)
    if output_format == "json":
        echo_json(rows)
    elif output_format == "csv":
        if rows:  # the columns are the rows' own: with no row there is no header either
            echo_csv(rows, row_columns(rows))
    elif rows:
        click.echo(render_table(QUERY_COLUMNS, rows))
    else:
        click.echo("no calls match")


@audit.command("show")
@click.argument("call_id")
@output_option
@pass_session
def show(session: Session, call_id: str, output: str | None) -> None:
    """Every record of call CALL_ID as written: each upstream attempt and its end; a call
    the broker never finished (it was killed) shows its start and no end."""
    with session.client() as client:
        answer = client.get(admin_path("audit", "calls", call_id))
    if session.output_format(output) == "json":
        echo_json(answer)
        return
    records = answer.get("records")
    shown = [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []
    click.echo(render_call(call_id, shown))


def render_call(call_id: str, records: Sequence[Mapping[str, object]]) -> str:
    """One titled block of `label  value` lines per record, in the order given."""
    count = f"{len(records)} record" + ("" if len(records) == 1 else "s")
    blocks = [f"call {call_id}: {count}"]
    for record in records:
        kind = str(record.get("kind"))
        title, fields = RECORD_KINDS.get(kind, (kind, END_FIELDS))
        if kind == "attempt":
            title = f"attempt {format_cell(record.get('attempt'))}"
        started = format_cell(record.get("started_at"), "time")
        body = textwrap.indent(render_fields(fields, record), "  ")
        blocks.append(f"{title}  {started}\n{body}")
    return "\n\n".join(blocks)


@audit.command("verify")
@output_option
@pass_session
def verify(session: Session, output: str | None) -> None:
    """Check the hash chains of the audit trail: no record changed, deleted or inserted.

    Exits with status 1 when there are findings.
    """
    with session.client() as client:
        report = client.post(admin_path("audit", "verify"))
    raw = report.get("findings")
    findings = [f for f in raw if isinstance(f, dict)] if isinstance(raw, list) else []
    ok = report.get("ok") is True and not findings
    if session.output_format(output) == "json":
        echo_json(report)
    else:
        click.echo(_verify_text(report, findings, ok=ok))
    if not ok:
        raise click.exceptions.Exit(1)


def _verify_text(report: JsonObject, findings: list[JsonObject], *, ok: bool) -> str:
    records, chains = report.get("records"), report.get("chains")
    summary = (
        f"{records} record{'' if records == 1 else 's'} in {chains} "
        f"chain{'' if chains == 1 else 's'} ({report.get('unchained')} unchained)"
    )
    if ok:
        return f"ok: {summary}"
    count = f"{len(findings)} finding{'' if len(findings) == 1 else 's'}"
    rows = [{**f, "meaning": PROBLEMS.get(str(f.get("problem")))} for f in findings]
    return f"FAILED: {count} over {summary}\n{render_table(FINDING_COLUMNS, rows)}"
