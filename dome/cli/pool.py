"""`dome model pool create|list|show|update|remove|add|remove-member`: pools through
`/admin/v1/pools`.

A pool puts model entries behind one name and says which requests it serves
(`--match-when`); the broker validates the predicate, this only checks it is a JSON object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import click

from dome.cli.attributes import put_given, require_changes
from dome.cli.client import JsonObject, admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import OutputFormat, echo_json, echo_records, output_option
from dome.cli.table import Column, render_fields, render_table

STRATEGIES = ("priority", "weighted", "cost", "cascade")
MAX_WEIGHT = 1000
MATCH_WHEN_HELP = (
    "Which requests it serves: a JSON object of attribute -> values (globs), e.g. "
    '\'{"request.model":["claude-haiku-4-5","gpt-5-mini"]}\'; {} serves every request.'
)
STRATEGY_HELP = "How members are tried: priority, weighted, cost or cascade."
ORDER_HELP = "Breaks ties between equally specific pools, lower first."

LIST_COLUMNS = (
    Column("NAME", "name"),
    Column("STRATEGY", "strategy"),
    Column("ORDER", "order"),
    Column("MEMBERS", "member_names", "list"),
    Column("MATCH WHEN", "match_when_text"),
)
SHOW_FIELDS = (
    Column("name", "name"),
    Column("match when", "match_when_text"),
    Column("strategy", "strategy"),
    Column("order", "order"),
    Column("created", "created_at", "time"),
)
MEMBER_COLUMNS = (
    Column("MODEL", "model"),
    Column("PRIORITY", "priority"),
    Column("WEIGHT", "weight"),
)


def check_match_when(
    _ctx: click.Context, param: click.Parameter, value: str | None
) -> JsonObject | None:
    """Click callback: `--match-when` must be a JSON object (the API checks its keys)."""
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON ({exc})", param=param) from exc
    if not isinstance(parsed, dict):
        raise click.BadParameter(
            "expected a JSON object of attribute -> list of values", param=param
        )
    return parsed


@click.group()
def pool() -> None:
    """Pools: model entries behind one name, and the requests they serve."""


@pool.command("create")
@click.argument("name")
@click.option("--match-when", callback=check_match_when, metavar="JSON", help=MATCH_WHEN_HELP)
@click.option(
    "--strategy", type=click.Choice(STRATEGIES), help=f"{STRATEGY_HELP} [default: priority]"
)
@click.option("--order", type=int, help=f"{ORDER_HELP} [default: 0]")
@output_option
@pass_session
def create_pool(
    session: Session,
    name: str,
    match_when: JsonObject | None,
    strategy: str | None,
    order: int | None,
    output: str | None,
) -> None:
    """Create pool NAME (without members: add them with `dome model pool add`)."""
    body: JsonObject = {"name": name}
    put_given(body, "match_when", match_when)
    put_given(body, "strategy", strategy)
    put_given(body, "order", order)
    with session.client() as client:
        record = client.post(admin_path("pools"), body)
    echo_pool(record, session.output_format(output))


@pool.command("list")
@output_option
@pass_session
def list_pools(session: Session, output: str | None) -> None:
    """List pools in the order ties between them are broken."""
    with session.client() as client:
        records = client.get_list(admin_path("pools"))
    shown = [_displayed(record) for record in records]
    format_ = session.output_format(output)
    echo_records(records if format_ == "json" else shown, LIST_COLUMNS, format_, empty="no pools")


@pool.command("show")
@click.argument("name")
@output_option
@pass_session
def show_pool(session: Session, name: str, output: str | None) -> None:
    """Show pool NAME with its members, in priority order."""
    with session.client() as client:
        record = client.get(admin_path("pools", name))
    echo_pool(record, session.output_format(output))


@pool.command("update")
@click.argument("name")
@click.option("--match-when", callback=check_match_when, metavar="JSON", help=MATCH_WHEN_HELP)
@click.option("--strategy", type=click.Choice(STRATEGIES), help=STRATEGY_HELP)
@click.option("--order", type=int, help=ORDER_HELP)
@output_option
@pass_session
def update_pool(
    session: Session,
    name: str,
    match_when: JsonObject | None,
    strategy: str | None,
    order: int | None,
    output: str | None,
) -> None:
    """Change pool NAME; options not given stay as they are."""
    body: JsonObject = {}
    put_given(body, "match_when", match_when)
    put_given(body, "strategy", strategy)
    put_given(body, "order", order)
    require_changes(body, "--match-when, --strategy or --order")
    with session.client() as client:
        record = client.patch(admin_path("pools", name), body)
    echo_pool(record, session.output_format(output))


@pool.command("remove")
@click.argument("name")
@output_option
@pass_session
def remove_pool(session: Session, name: str, output: str | None) -> None:
    """Remove pool NAME; its models stay (with --output json, success prints nothing)."""
    with session.client() as client:
        client.delete(admin_path("pools", name))
    if session.output_format(output) == "table":
        click.echo(f"removed pool {name}")


@pool.command("add")
@click.argument("name")
@click.argument("model")
@click.option("--priority", type=int, help="Lower is tried first; may be negative [default: 0].")
@click.option(
    "--weight",
    type=click.IntRange(1, MAX_WEIGHT),
    help=f"Share of calls under the weighted strategy, 1 to {MAX_WEIGHT} [default: 1].",
)
@output_option
@pass_session
def add_member(
    session: Session,
    name: str,
    model: str,
    priority: int | None,
    weight: int | None,
    output: str | None,
) -> None:
    """Make model MODEL a member of pool NAME, or set its priority and weight when it
    is one (options not given take their defaults)."""
    body: JsonObject = {}
    put_given(body, "priority", priority)
    put_given(body, "weight", weight)
    with session.client() as client:
        record = client.put(admin_path("pools", name, "members", model), body)
    echo_pool(record, session.output_format(output))


@pool.command("remove-member")
@click.argument("name")
@click.argument("model")
@output_option
@pass_session
def remove_member(session: Session, name: str, model: str, output: str | None) -> None:
    """Take model MODEL out of pool NAME (the model entry stays)."""
    with session.client() as client:
        record = client.delete_json(admin_path("pools", name, "members", model))
    echo_pool(record, session.output_format(output))


def echo_pool(record: JsonObject, output: OutputFormat) -> None:
    """Print a pool: the API's JSON, or its fields and then a table of its members."""
    if output == "json":
        echo_json(record)
        return
    click.echo(render_fields(SHOW_FIELDS, _displayed(record)))
    members = _members(record)
    click.echo("")
    click.echo(render_table(MEMBER_COLUMNS, members) if members else "no members")


def _displayed(record: JsonObject) -> JsonObject:
    """The record plus the flat fields tables print (member names, compact match-when)."""
    return {
        **record,
        "member_names": [str(member.get("model")) for member in _members(record)],
        "match_when_text": json.dumps(record.get("match_when", {}), separators=(",", ":")),
    }


def _members(record: JsonObject) -> list[Mapping[str, object]]:
    members = record.get("members")
    if not isinstance(members, list):
        return []
    return [member for member in members if isinstance(member, dict)]
