"""What differs between SQLite and PostgreSQL past the URL: conflict-tolerant INSERTs and
telling a unique violation from a foreign-key one by the driver's error code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from dome.errors import ConflictError, NotFoundError

IntegrityKind = Literal["unique", "foreign_key", "other"]

# PostgreSQL SQLSTATEs (Appendix A, "PostgreSQL Error Codes", class 23).
_PG_UNIQUE_VIOLATION = "23505"
_PG_FOREIGN_KEY_VIOLATION = "23503"
# SQLite extended result codes (https://sqlite.org/rescode.html#constraint_unique etc.).
_SQLITE_UNIQUE = frozenset({sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY})
_SQLITE_FOREIGN_KEY = sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY


def insert_ignoring_conflicts(dialect: str, table: Table, index_elements: Sequence[str]) -> Insert:
    """INSERT ... ON CONFLICT (index_elements) DO NOTHING, for a retried or raced write."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=index_elements)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=index_elements)


def upsert(
    dialect: str, table: Table, index_elements: Sequence[str], update: Sequence[str]
) -> Insert:
    """INSERT ... ON CONFLICT (index_elements) DO UPDATE the `update` columns."""
    if dialect == "postgresql":
        pg = postgresql.insert(table)
        return pg.on_conflict_do_update(
            index_elements=index_elements, set_={c: pg.excluded[c] for c in update}
        )
    lite = sqlite.insert(table)
    return lite.on_conflict_do_update(
        index_elements=index_elements, set_={c: lite.excluded[c] for c in update}
    )


def integrity_kind(exc: IntegrityError) -> IntegrityKind:
    """Classify by the driver's structured code (psycopg `sqlstate`, sqlite3
    `sqlite_errorcode`), never by message text."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if sqlstate == _PG_UNIQUE_VIOLATION or code in _SQLITE_UNIQUE:
        return "unique"
    if sqlstate == _PG_FOREIGN_KEY_VIOLATION or code == _SQLITE_FOREIGN_KEY:
        return "foreign_key"
    return "other"


@contextmanager
def integrity_errors(*, conflict: str, missing: str | None = None) -> Iterator[None]:
    """Turn a unique violation into `ConflictError(conflict)` and, when `missing` is
    given, a foreign-key violation into `NotFoundError(missing)`. Other integrity
    errors are bugs in this package and pass through unchanged."""
    try:
        yield
    except IntegrityError as exc:
        kind = integrity_kind(exc)
        if kind == "unique":
            raise ConflictError(conflict) from exc
        if kind == "foreign_key" and missing is not None:
            raise NotFoundError(missing) from exc
        raise
