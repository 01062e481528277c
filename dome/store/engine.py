"""Database URLs and engines: which drivers a URL means, and how every connection is set
up (SQLite: WAL, busy timeout, foreign keys, a real BEGIN). Owns no tables and no queries.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine as sa_create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from dome.errors import ConfigError

Dialect = Literal["sqlite", "postgresql"]

# Execution option marking a transaction that will write. On SQLite it turns BEGIN into
# BEGIN IMMEDIATE: a WAL reader that later writes fails at once with SQLITE_BUSY_SNAPSHOT
# instead of waiting, so writers take the write lock up front and queue on busy_timeout.
WRITE_OPTION = "dome_write"

SQLITE_BUSY_TIMEOUT_MS = 5_000
_WAL_RETRY_SECONDS = 0.005

_SQLITE_DRIVERS = frozenset({"", "pysqlite", "aiosqlite"})
_POSTGRES_BACKENDS = frozenset({"postgres", "postgresql"})
_POSTGRES_DRIVERS = frozenset({"", "psycopg", "psycopg_async"})


@dataclass(frozen=True, slots=True)
class DatabaseUrls:
    """One database as the sync (migrations) and async (runtime) drivers address it.

    URL objects rather than strings, so a password never shows in a repr or a log line.
    """

    dialect: Dialect
    sync_url: URL
    async_url: URL


def database_urls(url: str) -> DatabaseUrls:
    """Map an operator's database URL to the drivers we use.

    Accepts `sqlite:///path` (also `+pysqlite`, `+aiosqlite`) and `postgresql://`,
    `postgres://`, `postgresql+psycopg://`. Anything else is a `ConfigError`; messages
    never repeat the URL, which may carry a password.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError("database URL is not a valid URL") from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in _SQLITE_DRIVERS:
        return _sqlite_urls(parsed)
    if backend in _POSTGRES_BACKENDS and driver in _POSTGRES_DRIVERS:
        pg = parsed.set(drivername="postgresql+psycopg")
        return DatabaseUrls(dialect="postgresql", sync_url=pg, async_url=pg)
    raise ConfigError(
        f"unsupported database URL scheme {parsed.drivername!r}: "
        "use sqlite:///path or postgresql://..."
    )


def _sqlite_urls(parsed: URL) -> DatabaseUrls:
    # Migrations and the runtime engine open separate connections, so an in-memory
    # database would be a different, empty database for each of them.
    database = parsed.database or ""
    if database in {"", ":memory:"} or parsed.query.get("mode") == "memory":
        raise ConfigError("an in-memory SQLite database cannot be shared: use a file path")
    return DatabaseUrls(
        dialect="sqlite",
        sync_url=parsed.set(drivername="sqlite"),
        async_url=parsed.set(drivername="sqlite+aiosqlite"),
    )


def create_sync_engine(
    urls: DatabaseUrls, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
) -> Engine:
    """A blocking engine (used for migrations, in a worker thread)."""
    engine = sa.create_engine(urls.sync_url, **_engine_options(urls))
    _install_hooks(engine, urls, busy_timeout_ms)
    return engine


def create_async_engine(urls: DatabaseUrls) -> AsyncEngine:
    """The runtime engine: aiosqlite or async psycopg."""
    engine = sa_create_async_engine(urls.async_url, **_engine_options(urls))
    _install_hooks(engine.sync_engine, urls, SQLITE_BUSY_TIMEOUT_MS)
    return engine


def _engine_options(urls: DatabaseUrls) -> dict[str, Any]:
    if urls.dialect == "postgresql":
        # A replica outlives server restarts and idle-connection reaping by proxies.
        return {"pool_pre_ping": True}
    return {}


def _install_hooks(engine: Engine, urls: DatabaseUrls, busy_timeout_ms: int) -> None:
    if urls.dialect != "sqlite":
        return

    def on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # sqlite3's legacy mode skips BEGIN before SELECT and DDL, which breaks read
        # snapshots and transactional migrations; on_begin below emits BEGIN instead.
        # (SQLAlchemy docs, SQLite dialect, "Enabling Non-Legacy SQLite Transactional
        # Modes".)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            _enable_wal(cursor, busy_timeout_ms)
        finally:
            cursor.close()

    def on_begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)


def _enable_wal(cursor: DBAPICursor, busy_timeout_ms: int) -> None:
    """Switch the file to WAL (persistent, so once per database file).

    Switching needs an exclusive lock, and SQLite reports SQLITE_BUSY at once rather than
    waiting in the busy handler when it could deadlock (https://sqlite.org/wal.html,
    "Activating And Configuring WAL Mode"; seen when processes open a fresh file
    together), so the switch is retried here until the busy timeout. Only a fresh file
    gets here: migrations switch it before the runtime engine opens it.
    """
    cursor.execute("PRAGMA journal_mode")
    current = cursor.fetchone()
    if current is not None and str(current[0]).lower() == "wal":
        return
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.fetchall()
        except sqlite3.OperationalError as exc:
            busy = (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() >= deadline:
                raise
            time.sleep(_WAL_RETRY_SECONDS)
        else:
            return
