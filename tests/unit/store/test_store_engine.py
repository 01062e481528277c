"""Database URL mapping: one operator URL, the sync and async driver URLs."""

from __future__ import annotations

import pytest

from dome.errors import ConfigError
from dome.store.engine import database_urls


@pytest.mark.parametrize(
    ("url", "dialect", "sync_url", "async_url"),
    [
        (
            "sqlite:///var/dome.db",
            "sqlite",
            "sqlite:///var/dome.db",
            "sqlite+aiosqlite:///var/dome.db",
        ),
        (
            "sqlite:////abs/dome.db",
            "sqlite",
            "sqlite:////abs/dome.db",
            "sqlite+aiosqlite:////abs/dome.db",
        ),
        (
            "sqlite+aiosqlite:///dome.db",
            "sqlite",
            "sqlite:///dome.db",
            "sqlite+aiosqlite:///dome.db",
        ),
        (
            "postgresql://dome:pw@db:5432/dome",
            "postgresql",
            "postgresql+psycopg://dome:pw@db:5432/dome",
            "postgresql+psycopg://dome:pw@db:5432/dome",
        ),
        (
            "postgres://dome@db/dome?sslmode=require",
            "postgresql",
            "postgresql+psycopg://dome@db/dome?sslmode=require",
            "postgresql+psycopg://dome@db/dome?sslmode=require",
        ),
        (
            "postgresql+psycopg://dome@db/dome",
            "postgresql",
            "postgresql+psycopg://dome@db/dome",
            "postgresql+psycopg://dome@db/dome",
        ),
    ],
)
def test_database_urls(url: str, dialect: str, sync_url: str, async_url: str) -> None:
    urls = database_urls(url)

    assert urls.dialect == dialect
    assert urls.sync_url.render_as_string(hide_password=False) == sync_url
    assert urls.async_url.render_as_string(hide_password=False) == async_url


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root:secret@db/dome",
        "postgresql+asyncpg://u:secret@db/dome",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:dome?mode=memory&uri=true",
        "not a url",
        "",
    ],
)
def test_unusable_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        database_urls(url)

    assert "secret" not in raised.value.message


def test_urls_do_not_show_the_password() -> None:
    urls = database_urls("postgresql://dome:hunter2@db/dome")

    assert "hunter2" not in repr(urls)
    assert "hunter2" not in str(urls.async_url)
