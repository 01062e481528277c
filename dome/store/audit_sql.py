"""Audit queries: batch insert of sealed records (idempotent on chain and seq, with the
chain head in the same transaction), the newest calls, the newest policy decisions, and
the records in chain order for verification. Plain functions over a connection;
`SqlStore` owns the transactions.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from operator import attrgetter

import orjson
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from dome.store.records import AuditRow, ChainedAuditRow, SealedAuditRow
from dome.store.schema import audit_chains, llm_records

ROW_FIELDS = tuple(f.name for f in fields(AuditRow))
CHAIN_FIELDS = ("chain", "seq", "prev_hash", "hash")
AUDIT_FIELDS = ROW_FIELDS + CHAIN_FIELDS
audit = llm_records


async def insert_audit(connection: AsyncConnection, rows: Sequence[SealedAuditRow]) -> None:
    """Insert `rows` and move their chains' heads; a (chain, seq) already stored is
    skipped, so the writer can retry a batch whose commit it never saw acknowledged.

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
    await _move_heads(connection, rows)


async def _move_heads(connection: AsyncConnection, rows: Sequence[SealedAuditRow]) -> None:
    heads: dict[str, SealedAuditRow] = {}
    for row in rows:  # sealed in order: the last of each chain is its head
        heads[row.chain] = row
    now = datetime.now(UTC)
    stamp: object = now if connection.dialect.name == "postgresql" else _sqlite_time(now)
    for head in heads.values():
        # Plain SQL: a compiled statement per batch cost milliseconds of the event loop.
        params = (head.chain, head.seq, head.hash, stamp)
        await connection.exec_driver_sql(_HEAD_UPSERT[connection.dialect.name], params)


# A retried batch never moves a head back.
_HEAD_UPSERT = {
    dialect: (
        "INSERT INTO audit_chains (chain, last_seq, last_hash, updated_at) "  # noqa: S608
        f"VALUES ({marker}, {marker}, {marker}, {marker}) "
        "ON CONFLICT (chain) DO UPDATE SET last_seq = excluded.last_seq, "
        "last_hash = excluded.last_hash, updated_at = excluded.updated_at "
        "WHERE audit_chains.last_seq < excluded.last_seq"
    )
    for dialect, marker in (("sqlite", "?"), ("postgresql", "%s"))
}


def _sqlite_time(moment: datetime) -> str:
    """As SQLAlchemy's SQLite DateTime stores it: naive UTC text, so reads parse it back."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


_row_values = attrgetter(*ROW_FIELDS)
_chain_values = attrgetter(*CHAIN_FIELDS)


def _all_values(sealed: SealedAuditRow) -> tuple[object, ...]:
    return (*_row_values(sealed.row), *_chain_values(sealed))


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


def _sqlite_chunks(rows: Sequence[SealedAuditRow]) -> Iterator[Sequence[SealedAuditRow]]:
    start = 0
    for size in _SQLITE_STATEMENT_ROWS:
        while len(rows) - start >= size:
            yield rows[start : start + size]
            start += size


@functools.cache  # one string per size in _SQLITE_STATEMENT_ROWS
def _sqlite_insert(rows: int) -> str:
    values = ", ".join([_SQLITE_ROW_MARKERS] * rows)
    return f"INSERT INTO llm_records ({_COLUMNS}) VALUES {values} ON CONFLICT DO NOTHING"  # noqa: S608


_POSTGRES_CASTS = {
    "started_at": "::timestamptz",
    "stream": "::boolean",
    "status": "::integer",
    "latency_ms": "::double precision",
    "ttft_ms": "::double precision",
    "input_tokens": "::bigint",
    "output_tokens": "::bigint",
    "cache_read_tokens": "::bigint",
    "cache_write_tokens": "::bigint",
    "reasoning_tokens": "::bigint",
    "total_tokens": "::bigint",
    "request_units": "::bigint",
    "usage_estimated": "::boolean",
    "cost_nano_usd": "::bigint",
    "attempt": "::integer",
    "seq": "::bigint",
    "policy_version": "::integer",
}


def _postgres_column(index: int, name: str) -> str:
    if name in _JSON_FIELDS:  # a JSON null must become SQL NULL, not 'null'::json
        return f"NULLIF(e->{index}, 'null'::jsonb)::json"
    return f"(e->>{index}){_POSTGRES_CASTS.get(name, '')}"


_POSTGRES_INSERT = (
    f"INSERT INTO llm_records ({_COLUMNS}) SELECT "  # noqa: S608 - fixed column names
    + ", ".join(_postgres_column(i, name) for i, name in enumerate(AUDIT_FIELDS))
    + " FROM jsonb_array_elements(%s::jsonb) AS e ON CONFLICT DO NOTHING"
)


def _sqlite_values(sealed: SealedAuditRow) -> list[object]:
    values = list(_all_values(sealed))
    values[_STARTED_AT] = _sqlite_time(sealed.row.started_at)
    for index in _JSON_INDEXES:
        value = values[index]
        if value is not None:
            values[index] = orjson.dumps(value).decode()
    return values


async def tail_audit(connection: AsyncConnection, limit: int) -> list[AuditRow]:
    """The `limit` newest call records by start time, newest first."""
    return await _newest(connection, limit, audit.c.kind == "call")


async def recent_decisions(connection: AsyncConnection, limit: int) -> list[AuditRow]:
    """The `limit` newest calls that carry a policy decision, newest first (for replay)."""
    return await _newest(connection, limit, audit.c.kind == "call", audit.c.decision.is_not(None))


async def call_records(connection: AsyncConnection, call_id: str) -> list[AuditRow]:
    """Every record of one call, in the order they were written."""
    statement = (
        select(*(audit.c[name] for name in ROW_FIELDS))
        .where(audit.c.call_id == call_id)
        .order_by(audit.c.id)
    )
    result = await connection.execute(statement)
    return [_from_mapping(row) for row in result.mappings()]


async def chained_records(
    connection: AsyncConnection, after: tuple[str, int] | None, limit: int
) -> list[ChainedAuditRow]:
    """Up to `limit` chained records in (chain, seq) order, after `after` (keyset pages
    for verification)."""
    columns = (audit.c.id, *(audit.c[name] for name in AUDIT_FIELDS))
    statement = select(*columns).where(audit.c.chain.is_not(None))
    if after is not None:
        chain, seq = after
        statement = statement.where(
            or_(audit.c.chain > chain, and_(audit.c.chain == chain, audit.c.seq > seq))
        )
    statement = statement.order_by(audit.c.chain, audit.c.seq).limit(limit)
    result = await connection.execute(statement)
    return [
        ChainedAuditRow(
            id=row["id"],
            row=_from_mapping(row),
            chain=row["chain"],
            seq=row["seq"],
            prev_hash=row["prev_hash"],
            hash=row["hash"],
        )
        for row in result.mappings()
    ]


async def unchained_count(connection: AsyncConnection) -> int:
    """Records copied from before the hash chain existed."""
    count = await connection.scalar(
        select(func.count()).select_from(audit).where(audit.c.chain.is_(None))
    )
    return int(count or 0)


async def ended_calls(connection: AsyncConnection, call_ids: Sequence[str]) -> set[str]:
    """Which of `call_ids` have an end record."""
    ended: set[str] = set()
    for start in range(0, len(call_ids), 500):
        chunk = call_ids[start : start + 500]
        statement = select(audit.c.call_id).where(
            audit.c.kind == "call", audit.c.call_id.in_(chunk)
        )
        ended.update((await connection.execute(statement)).scalars())
    return ended


async def chain_heads(connection: AsyncConnection) -> dict[str, tuple[int, str]]:
    result = await connection.execute(
        select(audit_chains.c.chain, audit_chains.c.last_seq, audit_chains.c.last_hash)
    )
    return {chain: (seq, digest) for chain, seq, digest in result}


async def _newest(
    connection: AsyncConnection, limit: int, *conditions: ColumnElement[bool]
) -> list[AuditRow]:
    if limit <= 0:
        return []
    statement = (
        select(*(audit.c[name] for name in ROW_FIELDS))
        .where(*conditions)
        .order_by(audit.c.started_at.desc(), audit.c.id.desc())
        .limit(limit)
    )
    result = await connection.execute(statement)
    return [_from_mapping(row) for row in result.mappings()]


def _from_mapping(row: RowMapping) -> AuditRow:
    values = {name: row[name] for name in ROW_FIELDS}
    return AuditRow(**values)
