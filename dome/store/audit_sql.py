"""Audit queries: batch insert (idempotent on call_id), the newest rows, the newest policy
decisions. Plain functions over a connection; `SqlStore` owns the transactions.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import fields
from datetime import UTC
from operator import attrgetter

import orjson
from sqlalchemy import ColumnElement, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from dome.store.records import AuditRow
from dome.store.schema import audit

AUDIT_FIELDS = tuple(f.name for f in fields(AuditRow))


async def insert_audit(connection: AsyncConnection, rows: Sequence[AuditRow]) -> None:
    """Insert `rows`; a call_id already stored is skipped, so the writer can retry a
    batch whose commit it never saw acknowledged.

    Every call writes a row, so this runs at call rate, and its cost per row is what
    matters. Each batch is one statement with one bind step: SQLite gets a multi-row
    VALUES list, PostgreSQL one JSON array unpacked by `jsonb_array_elements`. Measured
    with bench/, per-row binding (SQLAlchemy's parameter processing, then even a plain
    executemany on aiosqlite's thread, which takes the GIL back for every row) cost the
    event loop 100+ microseconds per call.
    """
    if not rows:
        return
    if connection.dialect.name == "sqlite":
        for chunk in _sqlite_chunks(rows):
            params = tuple(value for row in chunk for value in _sqlite_values(row))
            await connection.exec_driver_sql(_sqlite_insert(len(chunk)), params)
    else:
        batch = orjson.dumps([_all_values(row) for row in rows]).decode()
        await connection.exec_driver_sql(_POSTGRES_INSERT, (batch,))


_all_values = attrgetter(*AUDIT_FIELDS)
_STARTED_AT = AUDIT_FIELDS.index("started_at")
# Columns of SQL type JSON: SQLite gets them as JSON text, PostgreSQL unpacks them as jsonb.
_JSON_FIELDS = ("usage", "policy_ids", "policy_context", "attempts")
_JSON_INDEXES = tuple(AUDIT_FIELDS.index(name) for name in _JSON_FIELDS)
_COLUMNS = ", ".join(AUDIT_FIELDS)

# SQLite binds all of one statement's parameters in one C loop and steps once with the
# GIL released (its limit is 32,766 parameters per statement). Statements come in a
# few fixed sizes only: sqlite3 keeps up to 128 prepared statements by SQL text, and a
# prepared 500-row INSERT is large, so one per batch length would hold tens of MiB.
_SQLITE_STATEMENT_ROWS = (256, 128, 64, 32, 16, 8, 4, 2, 1)  # a tail takes one of each at most
_SQLITE_ROW_MARKERS = "(" + ", ".join("?" * len(AUDIT_FIELDS)) + ")"


def _sqlite_chunks(rows: Sequence[AuditRow]) -> Iterator[Sequence[AuditRow]]:
    start = 0
    for size in _SQLITE_STATEMENT_ROWS:
        while len(rows) - start >= size:
            yield rows[start : start + size]
            start += size


@functools.cache  # one string per size in _SQLITE_STATEMENT_ROWS
def _sqlite_insert(rows: int) -> str:
    values = ", ".join([_SQLITE_ROW_MARKERS] * rows)
    return f"INSERT INTO audit ({_COLUMNS}) VALUES {values} ON CONFLICT (call_id) DO NOTHING"  # noqa: S608


_POSTGRES_CASTS = {
    "started_at": "::timestamptz",
    "stream": "::boolean",
    "status": "::integer",
    "latency_ms": "::double precision",
    "ttft_ms": "::double precision",
    "input_tokens": "::integer",
    "output_tokens": "::integer",
    "policy_version": "::integer",
}


def _postgres_column(index: int, name: str) -> str:
    if name in _JSON_FIELDS:  # a JSON null must become SQL NULL, not 'null'::json
        return f"NULLIF(e->{index}, 'null'::jsonb)::json"
    return f"(e->>{index}){_POSTGRES_CASTS.get(name, '')}"


_POSTGRES_INSERT = (
    f"INSERT INTO audit ({_COLUMNS}) SELECT "  # noqa: S608 - fixed column names
    + ", ".join(_postgres_column(i, name) for i, name in enumerate(AUDIT_FIELDS))
    + " FROM jsonb_array_elements(%s::jsonb) AS e ON CONFLICT (call_id) DO NOTHING"
)


def _sqlite_values(row: AuditRow) -> list[object]:
    values = list(_all_values(row))
    # As SQLAlchemy's SQLite DateTime stores it: naive UTC text, so reads parse it back.
    values[_STARTED_AT] = (
        row.started_at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    )
    for index in _JSON_INDEXES:
        value = values[index]
        if value is not None:
            values[index] = orjson.dumps(value).decode()
    return values


async def tail_audit(connection: AsyncConnection, limit: int) -> list[AuditRow]:
    """The `limit` newest rows by start time, newest first."""
    return await _newest(connection, limit)


async def recent_decisions(connection: AsyncConnection, limit: int) -> list[AuditRow]:
    """The `limit` newest rows that carry a policy decision, newest first (for replay)."""
    return await _newest(connection, limit, audit.c.decision.is_not(None))


async def _newest(
    connection: AsyncConnection, limit: int, *conditions: ColumnElement[bool]
) -> list[AuditRow]:
    if limit <= 0:
        return []
    statement = (
        select(*(audit.c[name] for name in AUDIT_FIELDS))
        .where(*conditions)
        .order_by(audit.c.started_at.desc(), audit.c.id.desc())
        .limit(limit)
    )
    result = await connection.execute(statement)
    return [_from_mapping(row) for row in result.mappings()]


def _from_mapping(row: RowMapping) -> AuditRow:
    values = {name: row[name] for name in AUDIT_FIELDS}
    return AuditRow(**values)
