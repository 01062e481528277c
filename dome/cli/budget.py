"""`dome budget set|list|remove|status`: spend ceilings through `/admin/v1/budgets`.

A ceiling limits one agent, workspace or tenant to whole tokens or USD per hour, day,
week, month or in total (docs/budgets.md). Arguments are checked here, so a bad one is a
usage error and nothing is sent; the broker checks the same rules.
"""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlencode

import click

from dome.cli.client import JsonObject, admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import echo_record, echo_records, output_option
from dome.cli.table import Column

PERIODS = ("hour", "day", "week", "month", "total")
# What the counters hold exactly (dome.spend.ceilings.MAX_UNITS): tokens, or nano-USD.
MAX_UNITS = 2**53 - 1
USD_PLACES = 9
_TOKENS = re.compile(r"[0-9]+")
_USD = re.compile(r"[0-9]+(?:\.[0-9]+)?")

COLUMNS = (
    Column("SCOPE", "scope_kind"),
    Column("NAME", "scope_name"),
    Column("METRIC", "metric"),
    Column("PERIOD", "period"),
    Column("LIMIT", "limit"),
    Column("UPDATED", "updated_at", "time"),
)
STATUS_COLUMNS = (
    Column("SCOPE", "scope_kind"),
    Column("NAME", "scope_name"),
    Column("METRIC", "metric"),
    Column("PERIOD", "period"),
    Column("LIMIT", "limit"),
    Column("USED", "used"),
    Column("RESERVED", "reserved"),
    Column("REMAINING", "remaining"),
    Column("RESETS AT", "resets_at", "time"),
)
PERIOD_HELP = "The window: hour, day, week (from Monday), month (UTC), or total (never resets)."


def check_tokens(_ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """Click callback: a whole number of tokens from 1 to MAX_UNITS."""
    if value is None:
        return None
    text = value.strip()
    if not _TOKENS.fullmatch(text) or not 0 < int(text) <= MAX_UNITS:
        raise click.BadParameter(
            f"{value!r} is not a whole number of tokens from 1 to {MAX_UNITS}", param=param
        )
    return int(text)


def check_usd(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback: USD above 0, at most 9 decimal places (counters hold nano-USD)."""
    if value is None:
        return None
    text = value.strip()
    places = len(text.partition(".")[2])
    amount = Decimal(text) if _USD.fullmatch(text) else None
    if amount is None or amount <= 0 or places > USD_PLACES or amount * 10**9 > MAX_UNITS:
        raise click.BadParameter(
            f"{value!r} is not an amount of USD such as 5.00: above 0, at most "
            f"{USD_PLACES} decimal places",
            param=param,
        )
    return text


@click.group()
def budget() -> None:
    """Spend ceilings: tokens or USD per hour, day, week, month or in total."""


@budget.command("set")
@click.option("--agent", metavar="NAME", help="Limit this agent.")
@click.option("--workspace", metavar="NAME", help="Limit every agent of this workspace together.")
@click.option("--tenant", metavar="NAME", help="Limit every agent of this tenant together.")
@click.option("--tokens", callback=check_tokens, metavar="N", help="At most N tokens.")
@click.option("--usd", callback=check_usd, metavar="AMOUNT", help="At most AMOUNT USD, e.g. 5.00.")
@click.option("--period", type=click.Choice(PERIODS), required=True, help=PERIOD_HELP)
@output_option
@pass_session
def set_budget(
    session: Session,
    agent: str | None,
    workspace: str | None,
    tenant: str | None,
    tokens: int | None,
    usd: str | None,
    period: str,
    output: str | None,
) -> None:
    """Set a ceiling, or change its limit (what its window used stays counted)."""
    scope_kind, scope_name = _scope(agent, workspace, tenant)
    if (tokens is None) == (usd is None):
        raise click.UsageError("give exactly one of --tokens N and --usd AMOUNT")
    metric, limit = ("tokens", tokens) if tokens is not None else ("usd", usd)
    body: JsonObject = {
        "scope_kind": scope_kind,
        "scope_name": scope_name,
        "metric": metric,
        "period": period,
        "limit": limit,
    }
    with session.client() as client:
        record = client.put(admin_path("budgets"), body)
    echo_record(record, COLUMNS, session.output_format(output))


@budget.command("list")
@click.option("--agent", metavar="NAME", help="Only this agent's own budgets.")
@click.option("--workspace", metavar="NAME", help="Only this workspace's own budgets.")
@click.option("--tenant", metavar="NAME", help="Only this tenant's own budgets.")
@output_option
@pass_session
def list_budgets(
    session: Session,
    agent: str | None,
    workspace: str | None,
    tenant: str | None,
    output: str | None,
) -> None:
    """List budgets: all, or those set on one agent, workspace or tenant."""
    query: dict[str, str] = {}
    if (agent, workspace, tenant) != (None, None, None):
        query["scope_kind"], query["scope_name"] = _scope(agent, workspace, tenant)
    with session.client() as client:
        records = client.get_list(_with_query(admin_path("budgets"), query))
    echo_records(records, COLUMNS, session.output_format(output), empty="no budgets")


@budget.command("remove")
@click.option("--agent", metavar="NAME")
@click.option("--workspace", metavar="NAME")
@click.option("--tenant", metavar="NAME")
@click.option("--tokens", "metric", flag_value="tokens", help="The budget in tokens.")
@click.option("--usd", "metric", flag_value="usd", help="The budget in USD.")
@click.option("--period", type=click.Choice(PERIODS), required=True, help=PERIOD_HELP)
@output_option
@pass_session
def remove_budget(
    session: Session,
    agent: str | None,
    workspace: str | None,
    tenant: str | None,
    metric: str | None,
    period: str,
    output: str | None,
) -> None:
    """Remove a budget (with --output json, success prints nothing)."""
    scope_kind, scope_name = _scope(agent, workspace, tenant)
    if metric is None:
        raise click.UsageError("give --tokens or --usd: which budget to remove")
    query = {
        "scope_kind": scope_kind,
        "scope_name": scope_name,
        "metric": metric,
        "period": period,
    }
    with session.client() as client:
        client.delete(_with_query(admin_path("budgets"), query))
    if session.output_format(output) == "table":
        per = "in total" if period == "total" else f"per {period}"
        click.echo(f"removed the {metric} budget {per} of {scope_kind} {scope_name}")


@budget.command("status")
@click.option("--agent", metavar="NAME", required=True, help="The agent whose scope to show.")
@output_option
@pass_session
def budget_status(session: Session, agent: str, output: str | None) -> None:
    """Every ceiling a call of AGENT is checked against (its own, its workspace's, its
    tenant's): used, reserved by calls in flight, remaining, and when it resets."""
    with session.client() as client:
        records = client.get_list(_with_query(admin_path("budgets", "status"), {"agent": agent}))
    empty = f"no budgets apply to agent {agent}"
    echo_records(records, STATUS_COLUMNS, session.output_format(output), empty=empty)


def _scope(agent: str | None, workspace: str | None, tenant: str | None) -> tuple[str, str]:
    given = [
        (kind, name)
        for kind, name in (("agent", agent), ("workspace", workspace), ("tenant", tenant))
        if name is not None
    ]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --agent, --workspace and --tenant")
    kind, name = given[0]
    if not name:
        raise click.UsageError(f"--{kind}: give a name")
    return kind, name


def _with_query(path: str, query: dict[str, str]) -> str:
    return f"{path}?{urlencode(query)}" if query else path
