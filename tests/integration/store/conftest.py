"""Store fixtures: every test runs on a fresh SQLite file and on PostgreSQL.

PostgreSQL comes from DOME_TEST_POSTGRES_URL (default: the local trust-auth server); the
session creates its own uniquely named databases there and drops them at the end. An
unreachable server fails the PostgreSQL tests, it never skips them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from dome.store import SqlStore, open_store, upgrade
from dome.store.engine import create_sync_engine, database_urls
from tests.postgres import PostgresServer

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

# Every table the store fills, children first; config_version keeps its single row.
_DATA_TABLES = (
    "pool_members, pools, agents, workspaces, tenants, models, keys, llm_records, audit_chains, "
    "policy_versions, budgets, budget_counters, budget_reservations"
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


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
