"""`SqlCounters`: the counter backend on SQLite or PostgreSQL (tables `budget_counters`,
`budget_reservations`). Every check is a conditional UPDATE inside the transaction that
applies it; nothing is read into Python, decided, then written back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dome.spend.counters import (
    COUNTER_GRACE,
    Charge,
    CounterState,
    CounterUnavailableError,
    check_actual,
    check_charges,
)
from dome.store.dialects import insert_ignoring_conflicts
from dome.store.engine import WRITE_OPTION
from dome.store.schema import budget_counters, budget_reservations

_counters = budget_counters.c
_holds = budget_reservations.c

# One statement per counter, executed once per key in sorted order (see `reserve`).
_HOLD = (
    update(budget_counters)
    .where(
        _counters.key == bindparam("k"),
        _counters.used + _counters.reserved + bindparam("a") <= bindparam("limit"),
    )
    .values(reserved=_counters.reserved + bindparam("a"))
)
_RELEASE = (
    update(budget_counters)
    .where(_counters.key == bindparam("k"))
    .values(
        reserved=_counters.reserved - bindparam("held"),
        used=_counters.used + bindparam("charged"),
    )
)


class _RefusedError(Exception):
    """Internal: unwinds (and so rolls back) a reservation that does not fit."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class SqlCounters:
    """The `CounterBackend` over an engine from `dome.store` (its SQLite hooks give
    WAL, the busy timeout and BEGIN IMMEDIATE for writers).

    SQLite: every write transaction starts with BEGIN IMMEDIATE, so writers, also in
    other processes on the same file, queue on the busy timeout and never deadlock
    upgrading a read lock; writers of this process also queue on one asyncio lock, so
    they wait in order rather than in SQLite's busy-handler sleeps. PostgreSQL: the
    row locks the UPDATEs take serialize callers per counter; keys are always locked in
    sorted order, so two reservations over the same keys cannot deadlock.

    A store that cannot be reached, or stays locked past the busy timeout, raises
    CounterUnavailableError.
    """

    def __init__(self, engine: AsyncEngine, *, grace: timedelta = COUNTER_GRACE) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._grace = grace
        self._local_writers = asyncio.Lock() if self._dialect == "sqlite" else None

    async def reserve(
        self, call_id: str, charges: Sequence[Charge], hold_until: datetime
    ) -> str | None:
        check_charges(charges)
        ordered = sorted(charges, key=lambda charge: charge.key)
        try:
            async with self._write() as connection:
                if await _holds_any(connection, call_id):
                    return None
                await _ensure_counters(connection, self._dialect, ordered)
                await _hold_each(connection, ordered)
                await _record_holds(connection, call_id, ordered, hold_until)
        except _RefusedError as refused:
            return refused.key
        except IntegrityError:
            # PostgreSQL only: a concurrent reserve of the same call_id committed first
            # (SQLite writers are serialized, so the check above already saw it).
            return None
        return None

    async def settle(self, call_id: str, actual: Mapping[str, int]) -> bool:
        check_actual(actual)
        async with self._write() as connection:
            return await _release(connection, call_id, actual, None) > 0

    async def read(self, keys: Sequence[str]) -> dict[str, CounterState]:
        states = dict.fromkeys(keys, CounterState())
        if not keys:
            return states
        query = select(_counters.key, _counters.used, _counters.reserved).where(
            _counters.key.in_(sorted(set(keys)))
        )
        with _unavailable():
            async with self._engine.connect() as connection:
                for key, used, reserved in await connection.execute(query):
                    states[key] = CounterState(used=used, reserved=reserved)
        return states

    async def expire(self, now: datetime) -> int:
        """One transaction per expired call (the same steps as a settle that charges
        the whole hold), so expiry and a late settle of the same call race safely:
        whichever deletes the reservation rows first charges them."""
        due = select(_holds.call_id).where(_holds.expires_at <= now).distinct()
        with _unavailable():
            async with self._engine.connect() as connection:
                calls = sorted((await connection.scalars(due)).all())
        charged = 0
        for call_id in calls:
            async with self._write() as connection:
                if await _release(connection, call_id, None, now) > 0:
                    charged += 1
        forgotten = delete(budget_counters).where(
            _counters.expires_at < now - self._grace, _counters.reserved == 0
        )
        async with self._write() as connection:
            await connection.execute(forgotten)
        return charged

    async def close(self) -> None:
        """The engine belongs to the caller (usually shared with the store)."""

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        with _unavailable():
            if self._local_writers is None:
                async with self._writer.begin() as connection:
                    # A counter row locked past this (a stuck transaction elsewhere) is
                    # "unavailable": the call fails closed instead of waiting for ever.
                    await connection.exec_driver_sql(_PG_LOCK_TIMEOUT)
                    yield connection
                return
            async with self._local_writers, self._writer.begin() as connection:
                yield connection


async def _holds_any(connection: AsyncConnection, call_id: str) -> bool:
    held = await connection.scalar(select(exists().where(_holds.call_id == call_id)))
    return bool(held)


async def _ensure_counters(
    connection: AsyncConnection, dialect: str, ordered: Sequence[Charge]
) -> None:
    """Create the window counters a reservation needs (a new window starts here)."""
    if not ordered:
        return
    await connection.execute(
        insert_ignoring_conflicts(dialect, budget_counters, ["key"]),
        [
            {"key": charge.key, "used": 0, "reserved": 0, "expires_at": charge.expires_at}
            for charge in ordered
        ],
    )


async def _hold_each(connection: AsyncConnection, ordered: Sequence[Charge]) -> None:
    """Add each amount to its counter's `reserved` if it fits, in key order; raises
    _RefusedError (rolling the transaction back) at the first that does not."""
    for charge in ordered:
        params = {"k": charge.key, "a": charge.amount, "limit": charge.limit}
        result = await connection.execute(_HOLD, params)
        if result.rowcount == 0:
            raise _RefusedError(charge.key)


async def _record_holds(
    connection: AsyncConnection, call_id: str, ordered: Sequence[Charge], hold_until: datetime
) -> None:
    if not ordered:
        return
    await connection.execute(
        budget_reservations.insert(),
        [
            {
                "call_id": call_id,
                "counter_key": charge.key,
                "amount": charge.amount,
                "expires_at": hold_until,
            }
            for charge in ordered
        ],
    )


async def _release(
    connection: AsyncConnection,
    call_id: str,
    actual: Mapping[str, int] | None,
    due: datetime | None,
) -> int:
    """Delete the call's reservation rows and move them off `reserved`, adding `actual`
    (None: each held amount in full) to `used`. With `due`, only holds expired by then.
    Returns how many rows it released: 0 when another settle or expiry came first."""
    deleted = delete(budget_reservations).where(_holds.call_id == call_id)
    if due is not None:
        deleted = deleted.where(_holds.expires_at <= due)
    held = (await connection.execute(deleted.returning(_holds.counter_key, _holds.amount))).all()
    if not held:
        return 0
    params = [
        {
            "k": key,
            "held": amount,
            "charged": amount if actual is None else actual.get(key, 0),
        }
        for key, amount in sorted(held)
    ]
    await connection.execute(_RELEASE, params)
    return len(held)


PG_LOCK_TIMEOUT_MS = 2000
_PG_LOCK_TIMEOUT = f"SET LOCAL lock_timeout = {PG_LOCK_TIMEOUT_MS}"


@contextmanager
def _unavailable() -> Iterator[None]:
    """Driver failures that mean "the store is not there or not answering"; anything
    else (a constraint the code broke, a bad query) is a bug and passes through."""
    try:
        yield
    except (OperationalError, InterfaceError, PoolTimeoutError) as exc:
        raise CounterUnavailableError("the SQL budget counters are unavailable") from exc
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        raise CounterUnavailableError("the SQL budget counters are unavailable") from exc
