"""Bringing a database to the newest schema: alembic, driven from code, one process at a
time. Knows nothing of the rows the store keeps.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from dome.store.engine import (
    WRITE_OPTION,
    DatabaseUrls,
    create_sync_engine,
    database_urls,
)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Arbitrary constant naming "the dome schema migration" in pg_advisory_xact_lock.
_PG_LOCK_KEY = 0x646F_6D65_6D69_6772  # b"domemigr"

# A waiting migrator on SQLite sits in busy_timeout until the first one commits; allow
# far more than the initial schema needs so a slow data migration does not fail others.
_SQLITE_MIGRATION_BUSY_MS = 120_000


def upgrade(url: str) -> None:
    """Migrate the database at `url` to the newest revision. Blocking; idempotent.

    Concurrent callers (replicas starting together) are serialized: on PostgreSQL by a
    transaction-scoped advisory lock, on SQLite by BEGIN IMMEDIATE (the database write
    lock). The upgrade runs in that one transaction, so a failure leaves nothing behind
    and a waiting caller finds the schema already at head.
    """
    upgrade_urls(database_urls(url))


def upgrade_urls(urls: DatabaseUrls, revision: str = "head") -> None:
    """`upgrade` for an already parsed URL; tests stop at an older `revision` to check
    that the later migrations carry existing rows forward."""
    engine = create_sync_engine(urls, busy_timeout_ms=_SQLITE_MIGRATION_BUSY_MS)
    try:
        with engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
            if urls.dialect == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
                )
            config = alembic_config()
            config.attributes["connection"] = connection  # read by migrations/env.py
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def alembic_config() -> Config:
    """Alembic settings built in code, no alembic.ini: where our scripts are."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config
