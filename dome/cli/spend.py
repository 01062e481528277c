"""`dome spend report`: calls, tokens and cost grouped by one dimension, through
`GET /admin/v1/spend`.

The broker sums (money exactly, as Decimal text); this only adds the table's total line
from the rows it shows. Filters are `dome audit query`'s, checked the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

import click

from dome.cli.audit import (
    echo_csv,
    filter_options,
    row_columns,
    tabular_format,
    tabular_output_option,
    with_query,
)
from dome.cli.client import JsonObject, admin_path
from dome.cli.context import Session, pass_session
from dome.cli.errors import AdminApiError
from dome.cli.output import echo_json
from dome.cli.table import Column, format_cell, render_table

DIMENSIONS = ("agent", "workspace", "tenant", "model", "provider", "pool")
# The numeric fields of a report row, in table order, with their headers.
FIGURES = (
    ("CALLS", "calls"),
    ("OK", "ok"),
    ("DENIED", "denied"),
    ("FAILED", "failed"),
    ("INPUT", "input_tokens"),
    ("OUTPUT", "output_tokens"),
    ("TOTAL", "total_tokens"),
    ("COST USD", "cost_usd"),
)
COUNTS = tuple(key for _, key in FIGURES if key != "cost_usd")
TOTAL_LABEL = "total"


@click.group()
def spend() -> None:
    """Spend: calls, tokens and cost from the audit trail."""


@spend.command("report")
@click.option(
    "--by",
    type=click.Choice(DIMENSIONS),
    required=True,
    help="Group calls by this: one line per value (model: the model entry that served).",
)
@filter_options
@tabular_output_option
@pass_session
def report(session: Session, /, by: str, output: str | None, **filters: str | None) -> None:
    """Calls, outcomes, tokens and cost per agent, workspace, tenant, model, provider or
    pool, most expensive first, for the calls matching every filter given.

    --output json prints the API's answer as is (with the resolved since and until);
    csv prints every column of its rows.
    """
    path = with_query(admin_path("spend"), {"by": by, **filters})
    with session.client() as client:
        answer = client.get(path)
    data = answer.get("data")
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise AdminApiError(
            "the broker sent a spend report without a 'data' array",
            status_code=200,
            error_type="bad_response",
        )
    output_format = tabular_format(session, output)
    if output_format == "json":
        echo_json(answer)
    elif output_format == "csv":
        echo_csv(data, row_columns(data) or [by, *(key for _, key in FIGURES)])
    elif data:
        click.echo(render_spend(by, data))
    else:
        click.echo("no calls match")


def render_spend(by: str, rows: Sequence[Mapping[str, object]]) -> str:
    """The rows, a rule, and their total; figures right-aligned, costs as given."""
    shown = [{by: format_cell(row.get(by)), **_figures(row)} for row in rows]
    shown.append({by: TOTAL_LABEL, **_figures(_total(rows))})
    columns = [Column(by.upper(), by)]
    for header, key in FIGURES:
        width = max(len(header), *(len(row[key]) for row in shown))
        for row in shown:
            row[key] = row[key].rjust(width)
        columns.append(Column(header.rjust(width), key))
    lines = render_table(columns, shown).splitlines()
    lines.insert(-1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def _figures(row: Mapping[str, object]) -> dict[str, str]:
    return {key: format_cell(row.get(key)) for _, key in FIGURES}


def _total(rows: Sequence[Mapping[str, object]]) -> JsonObject:
    total: JsonObject = {key: sum(_count(row.get(key)) for row in rows) for key in COUNTS}
    cost = sum((_money(row.get("cost_usd")) for row in rows), Decimal(0))
    total["cost_usd"] = format(cost, "f")
    return total


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad_figure(value)
    return value


def _money(value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise _bad_figure(value) from None
    if not amount.is_finite():
        raise _bad_figure(value)
    return amount


def _bad_figure(value: object) -> AdminApiError:
    return AdminApiError(
        f"the broker sent a spend figure that is not a number: {value!r}",
        status_code=200,
        error_type="bad_response",
    )
