"""Fixtures for the fakes' own fidelity tests: the served fakes and SDK clients.

Each client fixture resets its fake first, so `fake.requests` holds only the
current test's requests.
"""

from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.fixtures import fake_anthropic, fake_openai  # noqa: F401
from tests.fakes.openai_upstream import FakeOpenAI


@pytest.fixture
def openai_client(fake_openai: FakeOpenAI) -> Iterator[openai.OpenAI]:  # noqa: F811
    fake_openai.reset()
    base_url = fake_openai.url + "/v1"
    with openai.OpenAI(base_url=base_url, api_key=fake_openai.api_key, max_retries=0) as client:
        yield client


@pytest.fixture
def anthropic_client(
    fake_anthropic: FakeAnthropic,  # noqa: F811
) -> Iterator[anthropic.Anthropic]:
    fake_anthropic.reset()
    with anthropic.Anthropic(
        base_url=fake_anthropic.url, api_key=fake_anthropic.api_key, max_retries=0
    ) as client:
        yield client


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain HTTP client, for what the SDKs cannot send or hide (raw frames)."""
    with httpx.Client(timeout=10.0) as client:
        yield client
