"""Budget queries: the ceilings operators set, read, upserted (one per scope, metric and
period) and removed. Plain functions over a connection; `SqlStore` owns the transactions
and the config lock, under which the scope check before the write is race-free.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Table, delete, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from dome.errors import NotFoundError
from dome.spend.ceilings import METRICS, PERIODS, SCOPE_KINDS, Metric, Period, ScopeKind
from dome.store.config_sql import bump, id_of
from dome.store.dialects import upsert
from dome.store.records import BudgetRow, budget_limit_problem, budget_order
from dome.store.schema import agents, budgets, tenants, workspaces

T = TypeVar("T", bound=str)

_SCOPE_TABLES: dict[ScopeKind, Table] = {
    "agent": agents,
    "workspace": workspaces,
    "tenant": tenants,
}
_KEY = ("scope_kind", "scope_name", "metric", "period")

_BUDGETS = select(
    budgets.c.scope_kind,
    budgets.c.scope_name,
    budgets.c.metric,
    budgets.c.period,
    budgets.c.limit_value,
    budgets.c.created_at,
    budgets.c.updated_at,
)


async def load_budgets(
    connection: AsyncConnection,
    scope_kind: ScopeKind | None = None,
    scope_name: str | None = None,
) -> tuple[BudgetRow, ...]:
    """The budgets, all or those of one scope kind (and name), in `budget_order`."""
    statement: Select[Any] = _BUDGETS
    if scope_kind is not None:
        statement = statement.where(budgets.c.scope_kind == scope_kind)
    if scope_name is not None:
        statement = statement.where(budgets.c.scope_name == scope_name)
    found = await connection.execute(statement)
    # Sorted here, not by SQL: collations differ between SQLite and PostgreSQL.
    return tuple(sorted((_budget_row(row) for row in found.mappings()), key=budget_order))


async def put_budget(connection: AsyncConnection, row: BudgetRow, now: datetime) -> BudgetRow:
    """Insert the budget, or change the limit of the one with its scope, metric and
    period (which keeps its `created_at`, so what its window used stays counted).

    Raises `NotFoundError` when the scope does not exist (revoked agents do), and
    `ValueError` for a limit no ceiling may have (callers validate first).
    """
    problem = budget_limit_problem(row.metric, row.limit)
    if problem is not None:
        msg = f"budget limit {row.limit} {problem}"
        raise ValueError(msg)
    await id_of(connection, _SCOPE_TABLES[row.scope_kind], row.scope_kind, row.scope_name)
    statement = upsert(connection.dialect.name, budgets, _KEY, ["limit_value", "updated_at"])
    await connection.execute(
        statement,
        {
            "scope_kind": row.scope_kind,
            "scope_name": row.scope_name,
            "metric": row.metric,
            "period": row.period,
            "limit_value": format(row.limit, "f"),  # plain notation, never "1E-7"
            "created_at": now,
            "updated_at": now,
        },
    )
    await bump(connection)
    found = await connection.execute(_BUDGETS.where(*_identifies(row)))
    return _budget_row(found.mappings().one())


async def remove_budget(
    connection: AsyncConnection,
    scope_kind: ScopeKind,
    scope_name: str,
    metric: Metric,
    period: Period,
) -> None:
    """Remove the budget; raises `NotFoundError` when there is none."""
    key = BudgetRow(scope_kind, scope_name, metric, period, Decimal(0))
    result = await connection.execute(delete(budgets).where(*_identifies(key)))
    if not result.rowcount:
        per = "in total" if period == "total" else f"per {period}"
        msg = f"{scope_kind} {scope_name!r} has no {metric} budget {per}"
        raise NotFoundError(msg)
    await bump(connection)


def _identifies(row: BudgetRow) -> Iterable[ColumnElement[bool]]:
    return (
        budgets.c.scope_kind == row.scope_kind,
        budgets.c.scope_name == row.scope_name,
        budgets.c.metric == row.metric,
        budgets.c.period == row.period,
    )


def _budget_row(row: RowMapping) -> BudgetRow:
    return BudgetRow(
        scope_kind=_one_of(SCOPE_KINDS, row["scope_kind"], "scope kind"),
        scope_name=row["scope_name"],
        metric=_one_of(METRICS, row["metric"], "metric"),
        period=_one_of(PERIODS, row["period"], "period"),
        limit=Decimal(row["limit_value"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _one_of(known: tuple[T, ...], value: object, what: str) -> T:
    for candidate in known:
        if value == candidate:
            return candidate
    msg = f"unknown budget {what} {value!r} in the database"
    raise ValueError(msg)
