"""What differs per backend: how old counters are forgotten, the keys Redis keeps, and
failing closed when the store is unreachable, locked or silent."""

from __future__ import annotations

import asyncio
import secrets
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from dome.spend.counters import COUNTER_GRACE, Charge, CounterState, CounterUnavailableError
from dome.spend.redis_counters import RedisCounters
from dome.spend.sql_counters import PG_LOCK_TIMEOUT_MS, SqlCounters
from dome.store import upgrade
from dome.store.engine import create_async_engine, database_urls
from tests.integration.spend.conftest import CounterStore, delete_prefix, open_counters

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=10)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port nothing listens on: bound (so no one else takes it), never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def redis_store(redis_url: str) -> Iterator[CounterStore]:
    prefix = f"dome-test-{secrets.token_hex(6)}:"
    try:
        yield CounterStore("redis", redis_url, prefix)
    finally:
        delete_prefix(redis_url, prefix)


async def test_sql_expire_forgets_counters_past_their_grace(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    upgrade(url)
    async with open_counters(CounterStore("sqlite", url)) as counters:
        end = NOW + timedelta(hours=1)
        await counters.reserve("c1", [Charge("old", 100, 10, end)], LATER)
        await counters.reserve("c2", [Charge("forever", 100, 10, None)], LATER)
        await counters.reserve("c3", [Charge("held", 100, 10, end)], end + timedelta(days=1))
        await counters.settle("c1", {"old": 4})
        await counters.settle("c2", {"forever": 4})

        await counters.expire(end + COUNTER_GRACE)  # not yet past the grace
        assert (await counters.read(["old"]))["old"] == CounterState(used=4)

        assert await counters.expire(end + COUNTER_GRACE + timedelta(seconds=1)) == 0
        assert await counters.read(["old", "forever", "held"]) == {
            "old": CounterState(),  # forgotten
            "forever": CounterState(used=4),  # a total counter never expires
            "held": CounterState(reserved=10),  # still held: kept until charged
        }


async def test_redis_counters_expire_after_their_window_and_holds_leave_no_keys(
    redis_store: CounterStore,
) -> None:
    p = redis_store.prefix
    client = redis.Redis.from_url(redis_store.url, decode_responses=True)
    try:
        async with open_counters(redis_store) as counters:
            end = datetime.now(UTC) + timedelta(hours=2)
            await counters.reserve("c1", [Charge("w", 100, 10, end)], LATER)
            await counters.reserve("c2", [Charge("t", 100, 10, None)], LATER)
            assert set(client.keys(f"{p}*")) == {
                f"{p}counter:w",
                f"{p}counter:t",
                f"{p}hold:c1",
                f"{p}hold:c2",
                f"{p}holds",
            }
            expected = (end + COUNTER_GRACE).timestamp()
            assert abs(client.expiretime(f"{p}counter:w") - expected) <= 1
            assert client.expiretime(f"{p}counter:t") == -1  # a total counter never expires

            await counters.settle("c1", {"w": 3})
            assert await counters.expire(LATER) == 1  # c2, charged in full

            assert set(client.keys(f"{p}*")) == {f"{p}counter:w", f"{p}counter:t"}
            assert client.hgetall(f"{p}counter:w") == {"used": "3", "reserved": "0"}
            assert client.hgetall(f"{p}counter:t") == {"used": "10", "reserved": "0"}
    finally:
        client.close()


async def test_redis_settle_after_the_counter_expired_does_not_revive_it(
    redis_store: CounterStore,
) -> None:
    counter = f"{redis_store.prefix}counter:w"
    client = redis.Redis.from_url(redis_store.url, decode_responses=True)
    try:
        async with open_counters(redis_store) as counters:
            end = datetime.now(UTC) + timedelta(hours=2)
            await counters.reserve("c1", [Charge("w", 100, 10, end)], LATER)
            client.delete(counter)  # as Redis does at its expiry time

            assert await counters.settle("c1", {"w": 3})
            assert client.exists(counter) == 0
            assert client.keys(f"{redis_store.prefix}*") == []
    finally:
        client.close()


async def test_redis_on_a_closed_port_is_unavailable(closed_port: int) -> None:
    counters = RedisCounters(f"redis://127.0.0.1:{closed_port}/0", "x:", timeout=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(CounterUnavailableError):
            await counters.reserve("c1", [Charge("k", 10, 1, None)], LATER)
        with pytest.raises(CounterUnavailableError):
            await counters.settle("c1", {"k": 1})
        with pytest.raises(CounterUnavailableError):
            await counters.read(["k"])
        with pytest.raises(CounterUnavailableError):
            await counters.expire(NOW)
        assert time.monotonic() - started < 5
    finally:
        await counters.close()


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never answers: a hung Redis."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_silent_redis_times_out_as_unavailable(silent_server: int) -> None:
    counters = RedisCounters(f"redis://127.0.0.1:{silent_server}/0", "x:", timeout=0.2)
    try:
        started = time.monotonic()
        with pytest.raises(CounterUnavailableError):
            await counters.reserve("c1", [Charge("k", 10, 1, None)], LATER)
        assert time.monotonic() - started < 3  # two attempts of 0.2 s, not a hang
    finally:
        await counters.close()


async def test_postgres_on_a_closed_port_is_unavailable(closed_port: int) -> None:
    url = f"postgresql://postgres@127.0.0.1:{closed_port}/test"
    async with open_counters(CounterStore("postgres", url)) as counters:
        with pytest.raises(CounterUnavailableError):
            await counters.reserve("c1", [Charge("k", 10, 1, None)], LATER)
        with pytest.raises(CounterUnavailableError):
            await counters.settle("c1", {"k": 1})
        with pytest.raises(CounterUnavailableError):
            await counters.read(["k"])
        with pytest.raises(CounterUnavailableError):
            await counters.expire(NOW)


async def test_sqlite_locked_past_the_busy_timeout_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = create_async_engine(database_urls(url))

    def short_busy_timeout(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 50")
        cursor.close()

    event.listen(engine.sync_engine, "connect", short_busy_timeout)
    counters = SqlCounters(engine)
    assert await counters.reserve("c0", [Charge("k", 10, 1, None)], LATER) is None
    other = sqlite3.connect(path, isolation_level=None)  # another process's writer
    try:
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(CounterUnavailableError):
            await counters.reserve("c1", [Charge("k", 10, 1, None)], LATER)
        with pytest.raises(CounterUnavailableError):
            await counters.settle("c0", {"k": 1})
        with pytest.raises(CounterUnavailableError):
            await counters.expire(NOW + timedelta(days=1))
        assert time.monotonic() - started < 5
        other.execute("ROLLBACK")

        # Once the lock is gone, nothing was lost or half-done.
        assert await counters.read(["k"]) == {"k": CounterState(used=0, reserved=1)}
        assert await counters.settle("c0", {"k": 1})
        assert await counters.read(["k"]) == {"k": CounterState(used=1, reserved=0)}
    finally:
        other.close()
        await engine.dispose()


@pytest.mark.postgres
async def test_a_postgres_counter_locked_elsewhere_fails_closed_in_time(
    spend_postgres_url: str,
) -> None:
    key = f"lock-{secrets.token_hex(4)}"
    async with open_counters(CounterStore("postgres", spend_postgres_url)) as counters:
        assert await counters.reserve("c0", [Charge(key, 10, 1, None)], LATER) is None
        url = spend_postgres_url.replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(url) as stuck:  # a transaction that holds the row, and hangs
            stuck.execute("SELECT used FROM budget_counters WHERE key = %s FOR UPDATE", (key,))
            started = time.monotonic()
            with pytest.raises(CounterUnavailableError):
                await counters.reserve("c1", [Charge(key, 10, 1, None)], LATER)
            waited = time.monotonic() - started
            stuck.rollback()
        assert PG_LOCK_TIMEOUT_MS / 1000 <= waited < PG_LOCK_TIMEOUT_MS / 1000 + 3
        # Nothing half-done: the refused call holds nothing, the next one goes through.
        assert await counters.read([key]) == {key: CounterState(used=0, reserved=1)}
        assert await counters.reserve("c2", [Charge(key, 10, 1, None)], LATER) is None
