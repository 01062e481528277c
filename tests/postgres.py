"""A fresh PostgreSQL database per use, on the server at 127.0.0.1:5432.

The server must be running: tests that need it fail (never skip) when it is not.
`DOME_TEST_POSTGRES_URL` points elsewhere if needed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def admin_url() -> str:
    return os.environ.get("DOME_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create `dome_t_<random>`, yield its URL, drop it afterwards."""
    base = admin_url()
    name = "dome_t_" + secrets.token_hex(6)
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(base, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
