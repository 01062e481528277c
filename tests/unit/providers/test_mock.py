"""The mock provider, driven by the official async SDKs through an in-process route."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anthropic
import httpx2
import openai
import orjson
import pytest

from dome.errors import UnsupportedError
from dome.providers.base import ProviderConfig, ProviderContext, ProviderRequest
from dome.providers.mock import MockProvider, create_mock_provider
from dome.wire.formats import Operation, WireFormat

Answer = tuple[int, tuple[tuple[str, str], ...], bytes | AsyncIterator[bytes]]

WEATHER_TOOL_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "integer"},
        "metric": {"type": "boolean"},
    },
    "required": ["city", "days", "metric"],
    "additionalProperties": False,
}
OPENAI_TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": WEATHER_TOOL_SCHEMA,
            "strict": True,
        },
    }
]
ANTHROPIC_TOOLS: Any = [{"name": "get_weather", "input_schema": WEATHER_TOOL_SCHEMA}]
EXPECTED_ARGUMENTS = {"city": "mock", "days": 1, "metric": True}


class RecordingSleep:
    """Stands in for asyncio.sleep: records the delay, yields once, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def _provider(model: str = "mock-1", sleep: RecordingSleep | None = None) -> MockProvider:
    return MockProvider(model, sleep=sleep or RecordingSleep(), clock=lambda: 1735689600.5)


def _request(fmt: WireFormat, operation: Operation, body: dict[str, Any]) -> ProviderRequest:
    return ProviderRequest(
        fmt, operation, orjson.dumps(body), bool(body.get("stream")), body["model"]
    )


async def _answer(provider: MockProvider, path: str, body: bytes) -> Answer:
    """Routes one SDK request to the provider, as the broker would."""
    fmt: WireFormat = "openai" if path.endswith("/chat/completions") else "anthropic"
    operation: Operation = "chat" if fmt == "openai" else "messages"
    request = _request(fmt, operation, orjson.loads(body))
    if request.stream:
        stream = await provider.stream(request)
        return stream.status, stream.headers, stream.chunks()
    response = await provider.send(request)
    return response.status, response.headers, response.body


def _transport(provider: MockProvider) -> httpx2.MockTransport:
    """Both SDKs' HTTP clients, routed to the provider in process."""

    async def handler(request: httpx2.Request) -> httpx2.Response:
        status, headers, content = await _answer(provider, request.url.path, request.content)
        return httpx2.Response(status, headers=headers, content=content)

    return httpx2.MockTransport(handler)


def _openai(provider: MockProvider) -> openai.AsyncOpenAI:
    http = httpx2.AsyncClient(transport=_transport(provider))
    return openai.AsyncOpenAI(
        api_key="x", base_url="http://mock.test/v1", http_client=http, max_retries=0
    )


def _anthropic(provider: MockProvider) -> anthropic.AsyncAnthropic:
    http = httpx2.AsyncClient(transport=_transport(provider))
    return anthropic.AsyncAnthropic(
        api_key="x", base_url="http://mock.test", http_client=http, max_retries=0
    )


async def _frames(provider: MockProvider, request: ProviderRequest) -> list[bytes]:
    stream = await provider.stream(request)
    assert stream.status == 200
    return [chunk async for chunk in stream.chunks()]


def _openai_body(**fields: Any) -> dict[str, Any]:
    return {
        "model": "mock-1",
        "messages": [{"role": "user", "content": "Hello there"}],
        **fields,
    }


def _anthropic_body(**fields: Any) -> dict[str, Any]:
    body = {
        "model": "mock-1",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Hello there"}],
    }
    return body | fields


def test_accepts_chat_and_messages_only() -> None:
    provider = _provider()
    assert provider.accepts("openai", "chat")
    assert provider.accepts("anthropic", "messages")
    assert not provider.accepts("openai", "embeddings")
    assert not provider.accepts("anthropic", "count_tokens")


@pytest.mark.anyio
async def test_openai_text_answer() -> None:
    async with _openai(_provider()) as client:
        completion = await client.chat.completions.create(
            model="mock-1", messages=[{"role": "user", "content": "Hello there"}]
        )
    assert completion.id.startswith("chatcmpl-mock")
    assert completion.model == "mock-1"
    assert completion.created == 1735689600
    choice = completion.choices[0]
    assert choice.message.content == "Mock answer to: Hello there"
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    # ceil(chars / 4): 11 input characters, 27 output characters.
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (
        3,
        7,
    )


@pytest.mark.anyio
async def test_openai_tool_call_from_the_schema() -> None:
    async with _openai(_provider()) as client:
        completion = await client.chat.completions.create(
            model="mock-1",
            messages=[{"role": "user", "content": "Weather?"}],
            tools=OPENAI_TOOLS,
        )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert call.id.startswith("call_mock")
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == EXPECTED_ARGUMENTS


@pytest.mark.anyio
async def test_openai_answers_a_tool_result_with_text() -> None:
    messages: Any = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
    ]
    async with _openai(_provider()) as client:
        completion = await client.chat.completions.create(
            model="mock-1", messages=messages, tools=OPENAI_TOOLS
        )
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.content == "Mock answer to: 18C"


@pytest.mark.anyio
async def test_openai_stream_with_usage_assembles() -> None:
    async with _openai(_provider()) as client:
        stream = await client.chat.completions.create(
            model="mock-1",
            messages=[{"role": "user", "content": "Hello there"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Mock answer to: Hello there"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 10
    assert all(c.usage is None for c in chunks[:-1])


@pytest.mark.anyio
async def test_openai_stream_without_usage_has_no_usage_chunk() -> None:
    async with _openai(_provider()) as client:
        stream = await client.chat.completions.create(
            model="mock-1", messages=[{"role": "user", "content": "Hello"}], stream=True
        )
        chunks = [chunk async for chunk in stream]
    assert all(c.choices and c.usage is None for c in chunks)


@pytest.mark.anyio
async def test_openai_streamed_tool_call_assembles() -> None:
    async with (
        _openai(_provider()) as client,
        client.chat.completions.stream(
            model="mock-1",
            messages=[{"role": "user", "content": "Weather?"}],
            tools=OPENAI_TOOLS,
        ) as stream,
    ):
        completion = await stream.get_final_completion()
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert call.function.parsed_arguments == EXPECTED_ARGUMENTS


@pytest.mark.anyio
async def test_anthropic_text_answer() -> None:
    async with _anthropic(_provider()) as client:
        message = await client.messages.create(
            model="mock-1",
            max_tokens=100,
            messages=[{"role": "user", "content": "Hello there"}],
        )
    assert message.id.startswith("msg_mock")
    assert message.stop_reason == "end_turn"
    (block,) = message.content
    assert block.type == "text"
    assert block.text == "Mock answer to: Hello there"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (3, 7)


@pytest.mark.anyio
async def test_anthropic_stream_of_a_tool_call_assembles() -> None:
    async with (
        _anthropic(_provider()) as client,
        client.messages.stream(
            model="mock-1",
            max_tokens=100,
            messages=[{"role": "user", "content": "Weather?"}],
            tools=ANTHROPIC_TOOLS,
        ) as stream,
    ):
        message = await stream.get_final_message()
    assert message.stop_reason == "tool_use"
    (block,) = message.content
    assert block.type == "tool_use"
    assert block.id.startswith("toolu_mock")
    assert block.name == "get_weather"
    assert block.input == EXPECTED_ARGUMENTS
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 1


@pytest.mark.anyio
async def test_anthropic_streamed_text_assembles() -> None:
    async with (
        _anthropic(_provider()) as client,
        client.messages.stream(
            model="mock-1",
            max_tokens=100,
            messages=[{"role": "user", "content": "Hello there"}],
        ) as stream,
    ):
        message = await stream.get_final_message()
    assert message.stop_reason == "end_turn"
    assert [b.text for b in message.content if b.type == "text"] == ["Mock answer to: Hello there"]
    assert (message.usage.input_tokens, message.usage.output_tokens) == (3, 7)


@pytest.mark.anyio
async def test_max_tokens_truncates_at_a_word() -> None:
    words = "one two three four five six"
    async with _anthropic(_provider()) as client:
        message = await client.messages.create(
            model="mock-1", max_tokens=3, messages=[{"role": "user", "content": words}]
        )
    assert message.stop_reason == "max_tokens"
    assert [b.text for b in message.content if b.type == "text"] == ["Mock answer"]
    assert message.usage.output_tokens <= 3
    async with _openai(_provider()) as client:
        stream = await client.chat.completions.create(
            model="mock-1",
            messages=[{"role": "user", "content": words}],
            max_completion_tokens=3,
            stream=True,
        )
        chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Mock answer"
    assert chunks[-1].choices[0].finish_reason == "length"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fmt", "operation", "body"),
    [
        ("openai", "chat", _openai_body(stream=True)),
        ("anthropic", "messages", _anthropic_body(stream=True)),
    ],
)
async def test_each_chunk_is_one_sse_event(
    fmt: WireFormat, operation: Operation, body: dict[str, Any]
) -> None:
    sleep = RecordingSleep()
    frames = await _frames(_provider(sleep=sleep), _request(fmt, operation, body))
    assert len(frames) > 5
    assert all(frame.count(b"\n\n") == 1 and frame.endswith(b"\n\n") for frame in frames)
    assert sleep.delays == [0.0] * (len(frames) - 1)


ERROR_CASES = [
    ("error-429", "openai", openai.RateLimitError, 429),
    ("error-500", "openai", openai.InternalServerError, 500),
    ("error-529", "openai", openai.InternalServerError, 503),
    ("error-429", "anthropic", anthropic.RateLimitError, 429),
    ("error-500", "anthropic", anthropic.InternalServerError, 500),
    ("error-529", "anthropic", anthropic.OverloadedError, 529),
]


async def _call(fmt: str, provider: MockProvider, *, stream: bool) -> None:
    messages: Any = [{"role": "user", "content": "hi"}]
    if fmt == "openai":
        async with _openai(provider) as client:
            await client.chat.completions.create(model="m", messages=messages, stream=stream)
        return
    async with _anthropic(provider) as client:
        await client.messages.create(model="m", max_tokens=10, messages=messages, stream=stream)


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("model", "fmt", "error", "status"), ERROR_CASES)
async def test_error_models_fail_with_the_sdk_exception(
    model: str, fmt: str, error: type[Exception], status: int, *, stream: bool
) -> None:
    with pytest.raises(error) as caught:
        await _call(fmt, _provider(f"mock-{model}"), stream=stream)
    response = caught.value.response  # type: ignore[attr-defined]
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert (response.headers.get("retry-after") == "1") is (status == 429)
    body = response.json()
    if fmt == "openai":
        assert set(body["error"]) == {"message", "type", "param", "code"}
    else:
        assert body["type"] == "error"
        assert set(body["error"]) == {"type", "message"}


@pytest.mark.anyio
async def test_anthropic_529_says_overloaded() -> None:
    response = await _provider("mock-error-529").send(
        _request("anthropic", "messages", _anthropic_body())
    )
    assert response.status == 529
    assert orjson.loads(response.body)["error"]["type"] == "overloaded_error"


@pytest.mark.anyio
async def test_error_stream_reads_whole() -> None:
    stream = await _provider("mock-error-500").stream(
        _request("openai", "chat", _openai_body(stream=True))
    )
    assert stream.status == 500
    assert orjson.loads(await stream.read())["error"]["type"] == "server_error"
    await stream.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fmt", "operation", "body", "message"),
    [
        (
            "openai",
            "chat",
            {"model": "m", "messages": 5},
            "messages: expected an array",
        ),
        (
            "anthropic",
            "messages",
            {"model": "m", "messages": []},
            "messages: must not be empty",
        ),
    ],
)
async def test_bad_bodies_get_a_400_in_their_format(
    fmt: WireFormat, operation: Operation, body: dict[str, Any], message: str
) -> None:
    response = await _provider().send(_request(fmt, operation, body))
    assert response.status == 400
    error = orjson.loads(response.body)["error"]
    assert error["message"] == message
    assert error["type"] == "invalid_request_error"


@pytest.mark.anyio
async def test_bad_body_reaches_the_sdk_as_bad_request() -> None:
    async with _anthropic(_provider()) as client:
        with pytest.raises(anthropic.BadRequestError):
            await client.messages.create(model="m", max_tokens=10, messages=[])


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fmt", "operation", "body", "terminal"),
    [
        ("openai", "chat", _openai_body(stream=True), b"[DONE]"),
        ("anthropic", "messages", _anthropic_body(stream=True), b"message_stop"),
    ],
)
async def test_stream_cut_ends_without_its_terminal_event(
    fmt: WireFormat, operation: Operation, body: dict[str, Any], terminal: bytes
) -> None:
    full = await _frames(_provider(), _request(fmt, operation, body))
    cut = await _frames(_provider("mock-stream-cut"), _request(fmt, operation, body))
    assert terminal in full[-1]
    assert len(cut) == 4
    assert not any(terminal in frame for frame in cut)
    assert not any(b'finish_reason":"stop' in frame or b"message_delta" in frame for frame in cut)


@pytest.mark.anyio
async def test_slow_waits_between_chunks_and_before_answers() -> None:
    sleep = RecordingSleep()
    provider = _provider("mock-slow", sleep)
    frames = await _frames(
        provider, _request("anthropic", "messages", _anthropic_body(stream=True))
    )
    assert sleep.delays == [0.05] * (len(frames) - 1)
    sleep.delays.clear()
    response = await provider.send(_request("anthropic", "messages", _anthropic_body()))
    assert response.status == 200
    assert sleep.delays == [0.2]


@pytest.mark.anyio
async def test_closed_stream_stops_yielding() -> None:
    stream = await _provider().stream(_request("openai", "chat", _openai_body(stream=True)))
    chunks = stream.chunks()
    first = await anext(chunks)
    await stream.aclose()
    assert first.startswith(b"data: ")
    assert [chunk async for chunk in chunks] == []


@pytest.mark.anyio
async def test_unsupported_operation_is_refused() -> None:
    with pytest.raises(UnsupportedError):
        await _provider().send(
            ProviderRequest("openai", "embeddings", b"{}", stream=False, model="m")
        )


@pytest.mark.anyio
async def test_factory_reads_behaviour_from_the_configured_model() -> None:
    config = ProviderConfig(
        name="mock",
        kind="mock",
        model="mock-error-429",
        base_url=None,
        auth_method="none",
        credential=None,
    )
    async with aiohttp.ClientSession() as session:
        provider = create_mock_provider(config, ProviderContext(http=session))
        response = await provider.send(_request("openai", "chat", _openai_body()))
    assert response.status == 429


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True])
async def test_anthropic_thinking_comes_first_and_signed(stream: bool) -> None:
    fields: Any = {
        "model": "mock-1",
        "max_tokens": 2048,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": [{"role": "user", "content": "Hello there"}],
    }
    async with _anthropic(_provider()) as client:
        if stream:
            async with client.messages.stream(**fields) as events:
                message = await events.get_final_message()
        else:
            message = await client.messages.create(**fields)
    thinking, text = message.content
    assert thinking.type == "thinking"
    assert thinking.thinking == "Mock reasoning about: Hello there"
    assert thinking.signature  # deterministic, non-empty
    assert text.type == "text"
    assert text.text == "Mock answer to: Hello there"
    assert message.usage.output_tokens > 7  # the reasoning counts as output


@pytest.mark.anyio
async def test_openai_reasoning_effort_reasons_aloud_and_counts_it() -> None:
    async with _openai(_provider()) as client:
        completion = await client.chat.completions.create(
            model="mock-1",
            reasoning_effort="low",
            messages=[{"role": "user", "content": "Hello there"}],
        )
    message = completion.choices[0].message
    assert (message.model_extra or {})["reasoning_content"] == "Mock reasoning about: Hello there"
    assert completion.usage is not None
    details = completion.usage.completion_tokens_details
    assert details is not None
    assert details.reasoning_tokens
    assert details.reasoning_tokens < completion.usage.completion_tokens


@pytest.mark.anyio
async def test_images_are_named_in_the_answer_both_formats() -> None:
    png = "iVBORw0KGgo="  # 8 bytes once decoded
    async with _openai(_provider()) as openai_client, _anthropic(_provider()) as claude:
        completion = await openai_client.chat.completions.create(
            model="mock-1",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "look"},
                        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
                        {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
                    ],
                }
            ],
        )
        message = await claude.messages.create(
            model="mock-1",
            max_tokens=100,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "look"},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": png},
                        },
                    ],
                }
            ],
        )
    expected = "Mock answer to: look [image image/png 8 bytes]"
    assert completion.choices[0].message.content == expected + " [image url https://x.test/a.png]"
    assert message.content[0].type == "text"
    assert message.content[0].text == expected
