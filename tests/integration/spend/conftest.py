"""Counter backends for the spend tests: a fresh SQLite file, PostgreSQL (one migrated
database per session, its budget tables emptied per test) and Redis (a random key
prefix per test, deleted afterwards). An unreachable PostgreSQL or Redis fails the
tests that need it; nothing is skipped.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
import redis
from sqlalchemy import text

from dome.spend.counters import CounterBackend
from dome.spend.redis_counters import RedisCounters
from dome.spend.sql_counters import SqlCounters
from dome.store import upgrade
from dome.store.engine import create_async_engine, create_sync_engine, database_urls
from tests.postgres import PostgresServer

REDIS_URL_ENV = "DOME_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

StoreKind = Literal["sqlite", "postgres", "redis"]
STORE_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "redis"]


@dataclass(frozen=True)
class CounterStore:
    """Where a test's counters live; `open_counters` connects a backend to it (also in
    another process: it is all plain strings)."""

    kind: StoreKind
    url: str
    prefix: str = ""


@asynccontextmanager
async def open_counters(store: CounterStore) -> AsyncIterator[CounterBackend]:
    if store.kind == "redis":
        counters = RedisCounters(store.url, store.prefix)
        try:
            yield counters
        finally:
            await counters.close()
        return
    engine = create_async_engine(database_urls(store.url))
    try:
        yield SqlCounters(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {url} is not reachable ({exc}); start it or set {REDIS_URL_ENV}")
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("spend") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def spend_postgres_url(postgres_server: PostgresServer) -> str:
    url = postgres_server.create_database()
    upgrade(url)
    return url


def _empty_budget_tables(url: str) -> None:
    engine = create_sync_engine(database_urls(url))
    try:
        with engine.begin() as connection:
            connection.execute(text("TRUNCATE budget_counters, budget_reservations"))
    finally:
        engine.dispose()


def delete_prefix(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=STORE_KINDS)
def counter_store(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[CounterStore]:
    kind: StoreKind = request.param
    if kind == "sqlite":
        path = tmp_path / "budgets.db"
        shutil.copyfile(sqlite_template, path)
        yield CounterStore("sqlite", f"sqlite:///{path}")
    elif kind == "postgres":
        url = request.getfixturevalue("spend_postgres_url")
        _empty_budget_tables(url)
        yield CounterStore("postgres", url)
    else:
        url = request.getfixturevalue("redis_url")
        prefix = f"dome-test-{secrets.token_hex(6)}:"
        try:
            yield CounterStore("redis", url, prefix)
        finally:
            delete_prefix(url, prefix)


@pytest.fixture
async def counters(counter_store: CounterStore) -> AsyncIterator[CounterBackend]:
    async with open_counters(counter_store) as backend:
        yield backend
