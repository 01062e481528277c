"""Store fixtures: every test runs on a fresh SQLite file and on PostgreSQL.

PostgreSQL comes from DOME_TEST_POSTGRES_URL (default: the local trust-auth server); the
session creates its own uniquely named databases there and drops them at the end. An
unreachable server fails the PostgreSQL tests, it never skips them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import URL, make_url, text

from dome.store import SqlStore, open_store, upgrade
from dome.store.engine import create_sync_engine, database_urls

POSTGRES_URL_ENV = "DOME_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

# Every table the store fills, children first; config_version keeps its single row.
_DATA_TABLES = "agents, workspaces, tenants, models, keys, audit"


class PostgresServer:
    """An autocommit admin connection that creates throwaway databases."""

    def __init__(self, connection: psycopg.Connection[tuple[object, ...]], url: URL) -> None:
        self._connection = connection
        self._url = url
        self._created: list[str] = []

    def create_database(self) -> str:
        """A new empty database; returns its URL in the operator's plain form."""
        name = f"dome_t_{secrets.token_hex(6)}"
        self._connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._created.append(name)
        return self._url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for name in self._created:
            self._connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        self._created.clear()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = make_url(os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL))
    url = url.set(drivername="postgresql")
    try:
        connection = psycopg.connect(
            url.render_as_string(hide_password=False), autocommit=True, connect_timeout=5
        )
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL at {url.host}:{url.port} is not reachable ({exc}); start it or "
            f"set {POSTGRES_URL_ENV}",
            pytrace=False,
        )
    server = PostgresServer(connection, url)
    try:
        yield server
    finally:
        server.drop_all()
        connection.close()


@pytest.fixture(scope="session")
def postgres_session_url(postgres_server: PostgresServer) -> str:
    """One migrated database shared by the session's contract tests."""
    url = postgres_server.create_database()
    upgrade(url)
    return url


def _empty_postgres(url: str) -> None:
    engine = create_sync_engine(database_urls(url))
    try:
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {_DATA_TABLES} RESTART IDENTITY"))
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no rows: a new SQLite file, or the session's PostgreSQL database
    emptied (its config version may be past 0)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dome.db'}"
    url: str = request.getfixturevalue("postgres_session_url")
    _empty_postgres(url)
    return url


@pytest.fixture(params=BACKENDS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database nothing has touched yet: no file, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    opened = await open_store(database_url)
    try:
        yield opened
    finally:
        await opened.close()
