"""Audit queries: batch insert (idempotent on call_id) and the newest rows. Plain
functions over a connection; `SqlStore` owns the transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC
from operator import attrgetter

import orjson
from psycopg.types.json import Jsonb
from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from dome.store.records import AuditRow
from dome.store.schema import audit

AUDIT_FIELDS = tuple(f.name for f in fields(AuditRow))


async def insert_audit(connection: AsyncConnection, rows: Sequence[AuditRow]) -> None:
    """Insert `rows` in one executemany; a call_id already stored is skipped, so the
    writer can retry a batch whose commit it never saw acknowledged.

    Every call writes a row, so this is the one statement run at call rate. It goes to
    the driver as plain SQL with positional tuples: SQLAlchemy's per-row parameter
    processing cost several times the insert itself (measured with bench/).
    """
    if not rows:
        return
    dialect = connection.dialect.name
    encode = _sqlite_row if dialect == "sqlite" else _postgres_row
    await connection.exec_driver_sql(_insert_sql(dialect), [encode(row) for row in rows])


def _insert_sql(dialect: str) -> str:
    marker = "?" if dialect == "sqlite" else "%s"
    columns = ", ".join(AUDIT_FIELDS)
    values = ", ".join([marker] * len(AUDIT_FIELDS))
    return f"INSERT INTO audit ({columns}) VALUES ({values}) ON CONFLICT (call_id) DO NOTHING"  # noqa: S608 - fixed column names


_all_values = attrgetter(*AUDIT_FIELDS)
_STARTED_AT = AUDIT_FIELDS.index("started_at")
_USAGE = AUDIT_FIELDS.index("usage")


def _sqlite_row(row: AuditRow) -> tuple[object, ...]:
    values = list(_all_values(row))
    # As SQLAlchemy's SQLite DateTime stores it: naive UTC text, so reads parse it back.
    values[_STARTED_AT] = (
        row.started_at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    )
    if row.usage is not None:
        values[_USAGE] = orjson.dumps(row.usage).decode()
    return tuple(values)


def _postgres_row(row: AuditRow) -> tuple[object, ...]:
    values = list(_all_values(row))
    if row.usage is not None:
        values[_USAGE] = Jsonb(row.usage)
    return tuple(values)


async def tail_audit(connection: AsyncConnection, limit: int) -> list[AuditRow]:
    """The `limit` newest rows by start time, newest first."""
    if limit <= 0:
        return []
    statement = (
        select(*(audit.c[name] for name in AUDIT_FIELDS))
        .order_by(audit.c.started_at.desc(), audit.c.id.desc())
        .limit(limit)
    )
    result = await connection.execute(statement)
    return [_from_mapping(row) for row in result.mappings()]


def _from_mapping(row: RowMapping) -> AuditRow:
    values = {name: row[name] for name in AUDIT_FIELDS}
    return AuditRow(**values)
