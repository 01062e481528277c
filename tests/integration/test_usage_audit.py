"""What the audit records as used is what the agent was told it used: every route
(chat, messages, embeddings, count_tokens), streamed and whole, both SDKs, every
provider kind, the same-format calls and the translated ones."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.broker import AdminClient, ThreadedBroker, threaded_broker

PROVIDERS = {
    "openai": "use-openai",
    "anthropic": "use-anthropic",
    "openai-compatible": "use-compatible",
    "mock": "use-mock",
}
CASES = list(itertools.product(("openai", "anthropic"), PROVIDERS, ("whole", "stream")))


@pytest.fixture(scope="module")
def broker(
    tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> Iterator[ThreadedBroker]:
    with threaded_broker(tmp_path_factory.mktemp("usage")) as running:
        admin = running.admin
        admin.permit_all()
        openai_upstream = {"base_url": fake_openai.url + "/v1", "credential": fake_openai.api_key}
        admin.model("use-openai", "openai", model="gpt-4o-mini", **openai_upstream)
        admin.model(
            "use-anthropic",
            "anthropic",
            model="claude-sonnet-4-6",
            base_url=fake_anthropic.url,
            credential=fake_anthropic.api_key,
        )
        admin.model("use-compatible", "openai-compatible", model="qwen3", **openai_upstream)
        admin.model("use-mock", "mock", model="mock-1")
        admin.model("use-embed", "openai", model="text-embedding-3-small", **openai_upstream)
        yield running


def only_call(admin: AdminClient, agent: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        rows = admin.call("GET", f"/audit/calls?agent={agent}")["data"]
        if rows or time.monotonic() > deadline:
            (row,) = rows
            return dict(row)
        time.sleep(0.1)


def chat_usage(client: openai.OpenAI, model: str, stream: bool) -> tuple[int, int]:
    messages: Any = [{"role": "user", "content": "count my tokens, please"}]
    if not stream:
        answer = client.chat.completions.create(model=model, messages=messages)
        assert answer.usage is not None
        return answer.usage.prompt_tokens, answer.usage.completion_tokens
    chunks = list(
        client.chat.completions.create(
            model=model, messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )
    usage = chunks[-1].usage
    assert usage is not None
    return usage.prompt_tokens, usage.completion_tokens


def messages_usage(client: anthropic.Anthropic, model: str, stream: bool) -> tuple[int, int]:
    messages: Any = [{"role": "user", "content": "count my tokens, please"}]
    if not stream:
        answer = client.messages.create(model=model, max_tokens=256, messages=messages)
    else:
        with client.messages.stream(model=model, max_tokens=256, messages=messages) as events:
            answer = events.get_final_message()
    return answer.usage.input_tokens, answer.usage.output_tokens


@pytest.mark.parametrize(("sdk", "provider", "mode"), CASES, ids=["-".join(c) for c in CASES])
def test_recorded_usage_is_the_reported_usage(
    broker: ThreadedBroker, sdk: str, provider: str, mode: str
) -> None:
    admin = broker.admin
    agent = f"u-{sdk}-{provider}-{mode}"
    token = admin.agent(agent)
    model, stream = PROVIDERS[provider], mode == "stream"
    if sdk == "openai":
        with openai.OpenAI(base_url=broker.url + "/v1", api_key=token, max_retries=0) as client:
            told = chat_usage(client, model, stream)
    else:
        with anthropic.Anthropic(base_url=broker.url, api_key=token, max_retries=0) as client:
            told = messages_usage(client, model, stream)
    call = only_call(admin, agent)
    assert (call["input_tokens"], call["output_tokens"]) == told
    assert call["total_tokens"] == sum(told)
    assert call["usage_estimated"] is False
    assert call["cost_usd"] is not None or provider == "openai-compatible"  # no price known


def test_embeddings_usage_is_recorded(broker: ThreadedBroker) -> None:
    admin = broker.admin
    token = admin.agent("u-embed")
    with openai.OpenAI(base_url=broker.url + "/v1", api_key=token, max_retries=0) as client:
        answer = client.embeddings.create(model="use-embed", input=["one", "two words"])
    call = only_call(admin, "u-embed")
    assert (call["input_tokens"], call["output_tokens"]) == (answer.usage.prompt_tokens, 0)


def test_count_tokens_counts_but_consumes_nothing(broker: ThreadedBroker) -> None:
    admin = broker.admin
    token = admin.agent("u-count")
    with anthropic.Anthropic(base_url=broker.url, api_key=token, max_retries=0) as client:
        counted = client.messages.count_tokens(
            model="use-anthropic", messages=[{"role": "user", "content": "how many?"}]
        )
    call = only_call(admin, "u-count")
    assert (call["input_tokens"], call["output_tokens"]) == (0, 0)
    (record,) = [
        r
        for r in admin.call("GET", f"/audit/calls/{call['call_id']}")["records"]
        if r["kind"] == "call"
    ]
    assert record["usage"] == {"input_tokens": counted.input_tokens}
