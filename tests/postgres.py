"""Throwaway PostgreSQL databases on the server at 127.0.0.1:5432 (trust auth).

The server must be running: tests that need it fail (never skip) when it is not.
`DOME_TEST_POSTGRES_URL` points elsewhere if needed. Each database made here is
dropped at the end of the session.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import URL, make_url

POSTGRES_URL_ENV = "DOME_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


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
