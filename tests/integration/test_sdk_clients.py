"""Unchanged official SDK clients pointed at the broker, forwarded to fake upstreams."""

from __future__ import annotations

import json
from typing import Any, cast

import anthropic
import openai
import pytest
from openai.types.chat import ChatCompletionMessageFunctionToolCall
from starlette.requests import Request
from starlette.responses import Response

from tests.fakes.answers import arguments_from_schema
from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.conftest import Wired

WEATHER_TOOL_ANTHROPIC: Any = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
WEATHER_TOOL_OPENAI: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": WEATHER_TOOL_ANTHROPIC["input_schema"],
    },
}


def anthropic_client(wired: Wired, base: str = "/v1") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=wired.broker.url + base, api_key=wired.token, max_retries=0)


def openai_client(wired: Wired) -> openai.OpenAI:
    return openai.OpenAI(base_url=wired.broker.url + "/v1", api_key=wired.token, max_retries=0)


@pytest.mark.parametrize("base", ["/v1", ""])
def test_anthropic_sdk_seed_snippet(wired: Wired, base: str) -> None:
    # base "/v1" is the seed's snippet: the SDK then calls /v1/v1/messages.
    with anthropic_client(wired, base) as client:
        message = client.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=100,
            messages=[{"role": "user", "content": "hello there"}],
        )
    assert message.content[0].type == "text"
    assert message.content[0].text == "echo: hello there"
    assert message.model == "claude-sonnet-4-6"
    assert message.usage.input_tokens > 0
    sent = wired.anthropic.last_request
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == wired.anthropic.api_key
    assert wired.token not in json.dumps(sent.headers)
    assert sent.headers["anthropic-version"]  # the SDK's own version travels


def test_anthropic_sdk_stream_with_tools_and_multi_turn(wired: Wired) -> None:
    with anthropic_client(wired) as client:
        with client.messages.stream(
            model="claude-sonnet-4-6",
            max_tokens=200,
            tools=[WEATHER_TOOL_ANTHROPIC],
            messages=[{"role": "user", "content": "weather in Paris?"}],
        ) as stream:
            first = stream.get_final_message()
        assert first.stop_reason == "tool_use"
        call = first.content[-1]
        assert call.type == "tool_use"
        assert call.name == "get_weather"
        assert isinstance(call.input, dict)
        follow_up = client.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=200,
            tools=[WEATHER_TOOL_ANTHROPIC],
            messages=[
                {"role": "user", "content": "weather in Paris?"},
                {
                    "role": "assistant",
                    "content": [cast("Any", block.model_dump()) for block in first.content],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}
                    ],
                },
            ],
        )
    assert follow_up.stop_reason == "end_turn"
    assert follow_up.content[0].type == "text"


def test_openai_sdk_stream_with_usage(wired: Wired) -> None:
    with openai_client(wired) as client:
        chunks = list(
            client.chat.completions.create(
                model="gpt-4o-mini",
                stream=True,
                stream_options={"include_usage": True},
                messages=[{"role": "user", "content": "stream me"}],
            )
        )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: stream me"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    assert wired.openai.last_request.headers["authorization"] == f"Bearer {wired.openai.api_key}"


def test_openai_sdk_tools_parallel_and_multi_turn(wired: Wired) -> None:
    with openai_client(wired) as client:
        first = client.chat.completions.create(
            model="gpt-prod",
            tools=[WEATHER_TOOL_OPENAI],
            messages=[{"role": "user", "content": "weather?"}],
        )
        calls = first.choices[0].message.tool_calls
        assert first.choices[0].finish_reason == "tool_calls"
        assert calls
        assert isinstance(calls[0], ChatCompletionMessageFunctionToolCall)
        assert calls[0].function.name == "get_weather"
        second = client.chat.completions.create(
            model="gpt-prod",
            tools=[WEATHER_TOOL_OPENAI],
            messages=[
                {"role": "user", "content": "weather?"},
                cast("Any", first.choices[0].message.model_dump(exclude_none=True)),
                {"role": "tool", "tool_call_id": calls[0].id, "content": "sunny"},
            ],
        )
    assert second.choices[0].message.content
    # The entry name "gpt-prod" was rewritten to the provider's model id upstream.
    assert wired.openai.last_request.json()["model"] == "gpt-4o-mini"
    assert second.model == "gpt-4o-mini"


def test_openai_sdk_streamed_tool_call_deltas(wired: Wired) -> None:
    with openai_client(wired) as client:
        chunks = list(
            client.chat.completions.create(
                model="gpt-prod",
                stream=True,
                tools=[WEATHER_TOOL_OPENAI],
                messages=[{"role": "user", "content": "weather?"}],
            )
        )
    fragments = [
        call.function.arguments
        for chunk in chunks
        if chunk.choices
        for call in (chunk.choices[0].delta.tool_calls or [])
        if call.function and call.function.arguments
    ]
    assert len(fragments) > 1  # relayed as the upstream split them
    assert json.loads("".join(fragments)) == arguments_from_schema(
        WEATHER_TOOL_ANTHROPIC["input_schema"]
    )


class KeylessOpenAI(FakeOpenAI):
    """A self-hosted server (vLLM, Ollama) that takes no key at all."""

    def check_headers(self, request: Request) -> Response | None:
        del request
        return None


def test_openai_compatible_without_key(wired: Wired) -> None:
    with KeylessOpenAI().serve() as server:
        wired.broker.admin.model(
            "local-llm", "openai-compatible", model="llama-3", base_url=server.url + "/v1"
        )
        with openai_client(wired) as client:
            answer = client.chat.completions.create(
                model="local-llm", messages=[{"role": "user", "content": "hi"}]
            )
        assert answer.choices[0].message.content == "echo: hi"
        assert server.last_request.json()["model"] == "llama-3"
        assert "authorization" not in server.last_request.headers


@pytest.mark.parametrize("stream", [False, True])
def test_mock_provider_answers_both_formats(wired: Wired, stream: bool) -> None:
    with openai_client(wired) as client:
        if stream:
            chunks = list(
                client.chat.completions.create(
                    model="demo",
                    stream=True,
                    stream_options={"include_usage": True},
                    messages=[{"role": "user", "content": "ping"}],
                )
            )
            assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            assert chunks[-1].usage is not None
        else:
            completion = client.chat.completions.create(
                model="demo", messages=[{"role": "user", "content": "ping"}]
            )
            assert completion.choices[0].message.content
            assert completion.usage is not None
    final: anthropic.types.Message
    with anthropic_client(wired) as aclient:
        if stream:
            with aclient.messages.stream(
                model="demo", max_tokens=50, messages=[{"role": "user", "content": "ping"}]
            ) as s:
                final = s.get_final_message()
        else:
            final = aclient.messages.create(
                model="demo", max_tokens=50, messages=[{"role": "user", "content": "ping"}]
            )
    assert final.content[0].type == "text"
    assert final.usage.output_tokens > 0
