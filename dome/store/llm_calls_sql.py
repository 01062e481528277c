"""Questions over the `llm_calls` view (revision 0005): calls filtered by any dimension,
and spend grouped by one. Each is one SELECT, the same one docs/audit.md shows.

Money is summed as integer nano-USD (`cost_nano_usd`), exactly, on both databases, and
turned into Decimal here; `cost_usd` text is never summed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal, get_args

from sqlalchemy import JSON, Column, ColumnElement, func, or_, select, table
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import BigInteger, Boolean, Double, Integer, String

from dome.store.schema import UtcDateTime

SpendDimension = Literal["agent", "workspace", "tenant", "model", "provider", "pool"]
SPEND_DIMENSIONS: Final[tuple[SpendDimension, ...]] = get_args(SpendDimension)
_NANO: Final = Decimal(10**9)

llm_calls = table(
    "llm_calls",
    Column("call_id", String),
    Column("started_at", UtcDateTime),
    Column("agent", String),
    Column("workspace", String),
    Column("tenant", String),
    Column("endpoint", String),
    Column("requested_model", String),
    Column("model_entry", String),
    Column("served_model", String),
    Column("provider", String),
    Column("pool", String),
    Column("region", String),
    Column("format_in", String),
    Column("format_out", String),
    Column("stream", Boolean),
    Column("status", Integer),
    Column("error_type", String),
    Column("latency_ms", Double),
    Column("ttft_ms", Double),
    Column("input_tokens", BigInteger),
    Column("output_tokens", BigInteger),
    Column("cache_read_tokens", BigInteger),
    Column("cache_write_tokens", BigInteger),
    Column("reasoning_tokens", BigInteger),
    Column("total_tokens", BigInteger),
    Column("request_units", BigInteger),
    Column("usage_estimated", Boolean),
    Column("cost_usd", String),
    Column("cost_nano_usd", BigInteger),
    Column("decision", String),
    Column("policy_ids", JSON(none_as_null=True)),
    Column("policy_version", Integer),
    Column("budget", String),
    Column("budget_ceiling", String),
    Column("capture_ref", String),
    Column("outcome", String),
    Column("attempt_count", Integer),
)
CALL_COLUMNS: Final = tuple(str(column.name) for column in llm_calls.columns)


@dataclass(frozen=True, slots=True)
class CallFilter:
    agent: str | None = None
    workspace: str | None = None
    tenant: str | None = None
    model: str | None = None  # the requested name or the serving model entry
    provider: str | None = None
    pool: str | None = None
    outcome: str | None = None
    decision: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        c = llm_calls.c
        found: list[ColumnElement[bool]] = [
            column == value
            for column, value in (
                (c.agent, self.agent),
                (c.workspace, self.workspace),
                (c.tenant, self.tenant),
                (c.provider, self.provider),
                (c.pool, self.pool),
                (c.outcome, self.outcome),
                (c.decision, self.decision),
            )
            if value is not None
        ]
        if self.model is not None:
            found.append(or_(c.requested_model == self.model, c.model_entry == self.model))
        if self.since is not None:
            found.append(c.started_at >= self.since)
        if self.until is not None:
            found.append(c.started_at < self.until)
        return found


@dataclass(frozen=True, slots=True)
class SpendLine:
    key: str | None  # the dimension's value; None for calls without one
    calls: int
    ok: int
    denied: int  # by policy or budget
    failed: int  # everything else that was not ok
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: Decimal


_GROUP_COLUMN: Final = {
    "agent": "agent",
    "workspace": "workspace",
    "tenant": "tenant",
    "model": "model_entry",
    "provider": "provider",
    "pool": "pool",
}


async def query_calls(
    connection: AsyncConnection, where: CallFilter, limit: int
) -> list[dict[str, Any]]:
    """Calls matching `where`, newest first."""
    statement = (
        select(llm_calls)
        .where(*where.conditions())
        .order_by(llm_calls.c.started_at.desc(), llm_calls.c.call_id.desc())
        .limit(limit)
    )
    result = await connection.execute(statement)
    return [{name: row[name] for name in CALL_COLUMNS} for row in result.mappings()]


async def spend_report(
    connection: AsyncConnection, by: SpendDimension, where: CallFilter
) -> list[SpendLine]:
    """Calls, outcomes, tokens and cost per value of `by`, most expensive first."""
    c = llm_calls.c
    key = c[_GROUP_COLUMN[by]]
    denied = c.outcome.in_(("denied_policy", "denied_budget"))
    statement = (
        select(
            key.label("key"),
            func.count().label("calls"),
            func.count().filter(c.outcome == "ok").label("ok"),
            func.count().filter(denied).label("denied"),
            func.coalesce(func.sum(c.input_tokens), 0).label("input_tokens"),
            func.coalesce(func.sum(c.output_tokens), 0).label("output_tokens"),
            func.coalesce(func.sum(c.total_tokens), 0).label("total_tokens"),
            func.coalesce(func.sum(c.cost_nano_usd), 0).label("cost_nano_usd"),
        )
        .where(*where.conditions())
        .group_by(key)
    )
    result = await connection.execute(statement)
    lines = [
        SpendLine(
            key=row.key,
            calls=row.calls,
            ok=row.ok,
            denied=row.denied,
            failed=row.calls - row.ok - row.denied,
            input_tokens=int(row.input_tokens),
            output_tokens=int(row.output_tokens),
            total_tokens=int(row.total_tokens),
            cost_usd=Decimal(int(row.cost_nano_usd)) / _NANO,
        )
        for row in result
    ]
    return sorted(lines, key=lambda line: (-line.cost_usd, -line.calls, line.key or ""))
