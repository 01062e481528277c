"""Migrations on a database nothing has touched: idempotent, safe to race from several
processes, and in agreement with the schema the queries use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from dome.store import upgrade
from dome.store.engine import SQLITE_BUSY_TIMEOUT_MS, create_sync_engine, database_urls
from dome.store.migrate import alembic_config
from dome.store.schema import config_version, metadata

REPO_ROOT = Path(__file__).resolve().parents[3]

# Each child imports first, says "ready", then waits for one byte on stdin, so the
# upgrades start together rather than one import time apart.
CHILD = """
import sys
from dome.store import upgrade
print("ready", flush=True)
sys.stdin.read(1)
upgrade(sys.argv[1])
"""
RACERS = 3


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def schema_state(url: str) -> tuple[str | None, int, list[object]]:
    """(alembic revision, config_version rows, differences from dome.store.schema)."""
    engine = create_sync_engine(database_urls(url))
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            rows = connection.scalar(select(func.count()).select_from(config_version))
            diff = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()
    return revision, int(rows or 0), diff


def test_upgrade_creates_the_schema_of_the_queries(fresh_database_url: str) -> None:
    upgrade(fresh_database_url)

    assert schema_state(fresh_database_url) == (head_revision(), 1, [])


def test_upgrade_is_idempotent(fresh_database_url: str) -> None:
    upgrade(fresh_database_url)
    upgrade(fresh_database_url)

    assert schema_state(fresh_database_url) == (head_revision(), 1, [])


def test_concurrent_upgrades_from_several_processes(fresh_database_url: str) -> None:
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, fresh_database_url],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(RACERS)
    ]
    outcomes: list[tuple[int, str]] = []
    try:
        for racer in racers:
            assert racer.stdout is not None
            assert racer.stdout.readline().strip() == "ready"
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write("go")
            racer.stdin.flush()
        for racer in racers:
            _, stderr = racer.communicate(timeout=60)
            outcomes.append((racer.returncode, stderr))
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
                racer.communicate()

    assert outcomes == [(0, "")] * RACERS
    assert schema_state(fresh_database_url) == (head_revision(), 1, [])


@pytest.mark.parametrize("fresh_database_url", ["sqlite"], indirect=True)
def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(
    fresh_database_url: str,
) -> None:
    engine = create_sync_engine(database_urls(fresh_database_url))
    try:
        with engine.connect() as connection:
            pragmas = [
                connection.scalar(text(f"PRAGMA {name}"))
                for name in ("journal_mode", "busy_timeout", "foreign_keys")
            ]
    finally:
        engine.dispose()

    assert pragmas == ["wal", SQLITE_BUSY_TIMEOUT_MS, 1]
