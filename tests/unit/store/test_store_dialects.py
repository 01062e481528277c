"""Integrity errors classified by the drivers' codes, and mapped to our errors."""

from __future__ import annotations

import sqlite3

import psycopg.errors
import pytest
from sqlalchemy.exc import IntegrityError

from dome.errors import ConflictError, NotFoundError
from dome.store.dialects import IntegrityKind, integrity_errors, integrity_kind


def sqlite_error(code: int) -> IntegrityError:
    orig = sqlite3.IntegrityError("constraint failed")
    orig.sqlite_errorcode = code
    return IntegrityError("INSERT ...", {}, orig)


def postgres_error(orig: Exception) -> IntegrityError:
    return IntegrityError("INSERT ...", {}, orig)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (sqlite_error(sqlite3.SQLITE_CONSTRAINT_UNIQUE), "unique"),
        (sqlite_error(sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY), "unique"),
        (sqlite_error(sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY), "foreign_key"),
        (sqlite_error(sqlite3.SQLITE_CONSTRAINT_NOTNULL), "other"),
        (postgres_error(psycopg.errors.UniqueViolation()), "unique"),
        (postgres_error(psycopg.errors.ForeignKeyViolation()), "foreign_key"),
        (postgres_error(psycopg.errors.CheckViolation()), "other"),
    ],
    ids=[
        "sqlite-unique",
        "sqlite-primary-key",
        "sqlite-foreign-key",
        "sqlite-not-null",
        "postgres-unique",
        "postgres-foreign-key",
        "postgres-check",
    ],
)
def test_integrity_kind(error: IntegrityError, kind: IntegrityKind) -> None:
    assert integrity_kind(error) == kind


def test_unique_violation_is_a_conflict() -> None:
    error = sqlite_error(sqlite3.SQLITE_CONSTRAINT_UNIQUE)

    with (
        pytest.raises(ConflictError, match=r"^tenant 'x' already exists$") as raised,
        integrity_errors(conflict="tenant 'x' already exists"),
    ):
        raise error

    assert raised.value.__cause__ is error


def test_foreign_key_violation_is_not_found_when_a_parent_is_named() -> None:
    error = postgres_error(psycopg.errors.ForeignKeyViolation())

    with (
        pytest.raises(NotFoundError, match=r"^tenant 't' not found$") as raised,
        integrity_errors(conflict="-", missing="tenant 't' not found"),
    ):
        raise error

    assert raised.value.__cause__ is error


@pytest.mark.parametrize(
    "error",
    [
        sqlite_error(sqlite3.SQLITE_CONSTRAINT_CHECK),
        postgres_error(psycopg.errors.ForeignKeyViolation()),
    ],
    ids=["other", "foreign-key-without-parent"],
)
def test_other_integrity_errors_pass_through(error: IntegrityError) -> None:
    with pytest.raises(IntegrityError) as raised, integrity_errors(conflict="-"):
        raise error

    assert raised.value is error
