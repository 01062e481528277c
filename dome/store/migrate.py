"""Bringing a database to the newest schema: alembic, driven from code, one process at a
time. Knows nothing of the rows the store keeps.

A broker runs the migration in a child process (`upgrade_in_child`), and only when the
database is not at the newest revision already: alembic and its template engine stay
out of the serving process, which would otherwise carry them (about 11 MiB) for its
whole life. `python -m dome.store.migrate` reads the URL from stdin (never argv, where
a password would show in the process list).
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dome.errors import ConfigError
from dome.store.engine import (
    WRITE_OPTION,
    DatabaseUrls,
    create_sync_engine,
    database_urls,
)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Revision ids are the four digits that start each script's file name.
_REVISION_FILE = re.compile(r"(\d{4})_\w+\.py")

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
            from alembic import command  # noqa: PLC0415 - only where migrations run

            config = alembic_config()
            config.attributes["connection"] = connection  # read by migrations/env.py
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def alembic_config() -> Config:
    """Alembic settings built in code, no alembic.ini: where our scripts are."""
    from alembic.config import Config  # noqa: PLC0415 - only where migrations run

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest revision, read from the scripts' file names (alembic not needed)."""
    found = [
        match.group(1)
        for path in (MIGRATIONS_DIR / "versions").iterdir()
        if (match := _REVISION_FILE.fullmatch(path.name))
    ]
    return max(found)


def at_head(urls: DatabaseUrls) -> bool:
    """Whether the database is at the newest revision (False when it has none yet)."""
    engine = create_sync_engine(urls)
    try:
        with engine.connect() as connection:
            current = connection.execute(text("SELECT version_num FROM alembic_version"))
            return current.scalar() == head_revision()
    except SQLAlchemyError:
        return False  # no alembic_version table: a database nothing has touched
    finally:
        engine.dispose()


async def upgrade_in_child(urls: DatabaseUrls, url: str) -> None:
    """Migrate to head in a child process unless the database is there already.

    Raises ConfigError with the child's last words when the migration fails.
    """
    if await asyncio.to_thread(at_head, urls):
        return
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dome.store.migrate",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await child.communicate(url.encode())
    if child.returncode != 0:
        last = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        msg = f"migrating the database failed: {last[0]}"
        raise ConfigError(msg)


if __name__ == "__main__":
    upgrade(sys.stdin.read().strip())
