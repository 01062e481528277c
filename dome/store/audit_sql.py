"""Audit queries: batch insert (idempotent on call_id) and the newest rows. Plain
functions over a connection; `SqlStore` owns the transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from dome.store.dialects import insert_ignoring_conflicts
from dome.store.records import AuditRow
from dome.store.schema import audit

AUDIT_FIELDS = tuple(f.name for f in fields(AuditRow))


async def insert_audit(connection: AsyncConnection, rows: Sequence[AuditRow]) -> None:
    """Insert `rows` in one executemany; a call_id already stored is skipped, so the
    writer can retry a batch whose commit it never saw acknowledged."""
    if not rows:
        return
    statement = insert_ignoring_conflicts(connection.dialect.name, audit, ["call_id"])
    await connection.execute(statement, [_to_params(row) for row in rows])


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


def _to_params(row: AuditRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in AUDIT_FIELDS}


def _from_mapping(row: RowMapping) -> AuditRow:
    values = {name: row[name] for name in AUDIT_FIELDS}
    return AuditRow(**values)
