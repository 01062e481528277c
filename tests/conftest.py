"""Fixtures shared by every test: the fake upstreams and the anyio backend."""

import pytest

from tests.fakes.fixtures import fake_anthropic, fake_openai
from tests.postgres import postgres_server

__all__ = ["fake_anthropic", "fake_openai", "postgres_server"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
