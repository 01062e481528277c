"""A broker per test module, wired to the fake upstreams and the mock provider."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.broker import ThreadedBroker, threaded_broker

MAX_BODY_BYTES = 256 * 1024


@dataclass
class Wired:
    broker: ThreadedBroker
    token: str  # an active agent's Dome token
    openai: FakeOpenAI
    anthropic: FakeAnthropic


@pytest.fixture(scope="module")
def wired(
    tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> Iterator[Wired]:
    data_dir: Path = tmp_path_factory.mktemp("dome")
    with threaded_broker(data_dir, {"DOME_MAX_BODY_BYTES": str(MAX_BODY_BYTES)}) as broker:
        admin = broker.admin
        admin.permit_all()
        token = admin.agent("agent-1")
        admin.model(
            "anthropic-prod",
            "anthropic",
            model="claude-sonnet-4-6",
            base_url=fake_anthropic.url,
            auth_method="api-key",
            credential_type="shared",
            credential=fake_anthropic.api_key,
        )
        admin.model(
            "gpt-prod",
            "openai",
            model="gpt-4o-mini",
            base_url=fake_openai.url + "/v1",
            credential=fake_openai.api_key,
        )
        for behaviour in (
            "error-429",
            "error-500",
            "stream-cut",
            "stream-truncated-clean",
            "slow",
            "error-400",
            "parallel",
            "stream-overloaded",
        ):
            admin.model(
                f"anthropic-{behaviour}",
                "anthropic",
                model=f"claude-{behaviour}",
                base_url=fake_anthropic.url,
                credential=fake_anthropic.api_key,
            )
            admin.model(
                f"openai-{behaviour}",
                "openai",
                model=f"gpt-{behaviour}",
                base_url=fake_openai.url + "/v1",
                credential=fake_openai.api_key,
            )
        admin.model("demo", "mock", model="mock-1")
        yield Wired(broker, token, fake_openai, fake_anthropic)
