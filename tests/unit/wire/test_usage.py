"""Every format's usage maps into one vocabulary (docs/usage.md): whole answers, streams
split at every byte, and fields that are absent, null or garbage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from dome.wire.anthropic.observe import (
    MessageStreamObserver,
    message_usage,
    usage_from_count_body,
    usage_from_message_body,
)
from dome.wire.openai.observe import ChatStreamObserver, chat_usage, usage_from_chat_body
from dome.wire.usage import ReportedUsage, as_count, counted_usage

Observer = ChatStreamObserver | MessageStreamObserver


def counts(usage: ReportedUsage | None) -> dict[str, int | None]:
    """The normalized vocabulary of `usage`, as the audit names it (`llm.usage.*`)."""
    assert usage is not None
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "total_tokens": usage.total_tokens,
        "request_units": usage.request_units,
    }


def vocabulary(
    input_tokens: int | None,
    output_tokens: int | None,
    *,
    cache_read: int = 0,
    cache_write: int = 0,
    reasoning: int = 0,
    total: int | None = None,
) -> dict[str, int | None]:
    if total is None and input_tokens is not None and output_tokens is not None:
        total = input_tokens + output_tokens
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "reasoning_tokens": reasoning,
        "total_tokens": total,
        "request_units": None,
    }


# --- OpenAI chat and embeddings --------------------------------------------------------

OPENAI_CHAT_USAGE = {
    "prompt_tokens": 2048,
    "completion_tokens": 300,
    "total_tokens": 2348,
    "prompt_tokens_details": {"cached_tokens": 1536, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 256,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        pytest.param(
            OPENAI_CHAT_USAGE,
            vocabulary(2048, 300, cache_read=1536, reasoning=256),
            id="chat: prompt_tokens already counts cached tokens",
        ),
        pytest.param(
            {
                "prompt_tokens": 5000,
                "completion_tokens": 10,
                "total_tokens": 5010,
                "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 3000},
            },
            vocabulary(5000, 10, cache_read=1000, cache_write=3000),
            id="chat: the newer cache_write_tokens detail",
        ),
        pytest.param(
            {"prompt_tokens": 8, "total_tokens": 8},
            vocabulary(8, 0),
            id="embeddings: no completion, total equals prompt",
        ),
        pytest.param(
            {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
            vocabulary(12, 3),
            id="openai-compatible (vLLM, llama.cpp, Ollama): no details",
        ),
        pytest.param(
            {
                "prompt_tokens": 12,
                "completion_tokens": 3,
                "prompt_tokens_details": None,
                "completion_tokens_details": None,
            },
            vocabulary(12, 3),
            id="null details",
        ),
    ],
)
def test_openai_usage_mapping(usage: dict[str, Any], expected: dict[str, int | None]) -> None:
    reported = chat_usage(usage)
    assert counts(reported) == expected
    assert reported is not None
    assert reported.raw == usage
    whole = usage_from_chat_body(orjson.dumps({"object": "chat.completion", "usage": usage}))
    assert counts(whole) == expected


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        pytest.param(
            {"prompt_tokens": True, "completion_tokens": "3", "total_tokens": 4.0},
            vocabulary(None, None),
            id="bools, strings and floats are not counts",
        ),
        pytest.param(
            {"prompt_tokens": -1, "completion_tokens": None},
            vocabulary(None, None),
            id="negative and null",
        ),
        pytest.param(
            {
                "prompt_tokens": 10,
                "completion_tokens": 2,
                "prompt_tokens_details": [1],
                "completion_tokens_details": "many",
            },
            vocabulary(10, 2),
            id="details that are not objects",
        ),
        pytest.param(
            {
                "prompt_tokens": 10,
                "completion_tokens": 2,
                "prompt_tokens_details": {"cached_tokens": False},
                "completion_tokens_details": {"reasoning_tokens": "1"},
            },
            vocabulary(10, 2),
            id="garbage detail counts",
        ),
        pytest.param(
            {"prompt_tokens": 10, "total_tokens": 4},
            vocabulary(10, None),
            id="a total below the prompt says nothing about output",
        ),
        pytest.param({}, vocabulary(None, None), id="empty"),
    ],
)
def test_openai_garbage_does_not_crash(
    usage: dict[str, Any], expected: dict[str, int | None]
) -> None:
    assert counts(chat_usage(usage)) == expected


@pytest.mark.parametrize("usage", [None, [], "usage", 3, True])
def test_openai_usage_that_is_not_an_object_is_none(usage: object) -> None:
    assert chat_usage(usage) is None
    assert usage_from_chat_body(orjson.dumps({"usage": usage})) is None


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'"text"', b'{"choices": []}'])
def test_openai_bodies_without_usage(body: bytes) -> None:
    assert usage_from_chat_body(body) is None


# --- Anthropic messages and count_tokens --------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        pytest.param(
            {
                "input_tokens": 12,
                "cache_creation_input_tokens": 2000,
                "cache_read_input_tokens": 30000,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": 1500,
                    "ephemeral_1h_input_tokens": 500,
                },
                "output_tokens": 87,
                "output_tokens_details": {"thinking_tokens": 40},
                "server_tool_use": {"web_search_requests": 1},
                "service_tier": "standard",
            },
            vocabulary(32012, 87, cache_read=30000, cache_write=2000, reasoning=40),
            id="input_tokens excludes the cache; the broker's includes it",
        ),
        pytest.param(
            {
                "input_tokens": 12,
                "cache_read_input_tokens": 0,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": 100,
                    "ephemeral_1h_input_tokens": 20,
                },
                "output_tokens": 5,
            },
            vocabulary(132, 5, cache_write=120),
            id="cache writes from the breakdown when the total is missing",
        ),
        pytest.param(
            {
                "input_tokens": 25,
                "cache_creation_input_tokens": None,
                "cache_read_input_tokens": None,
                "cache_creation": None,
                "output_tokens": 1,
                "output_tokens_details": None,
            },
            vocabulary(25, 1),
            id="null cache fields (older API versions)",
        ),
        pytest.param(
            {"input_tokens": 25, "output_tokens": 4},
            vocabulary(25, 4),
            id="no cache fields",
        ),
    ],
)
def test_anthropic_usage_mapping(usage: dict[str, Any], expected: dict[str, int | None]) -> None:
    reported = message_usage(usage)
    assert counts(reported) == expected
    assert reported is not None
    assert reported.raw == usage
    assert reported.counted_input_tokens is None
    whole = usage_from_message_body(orjson.dumps({"type": "message", "usage": usage}))
    assert counts(whole) == expected


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        pytest.param(
            {"input_tokens": "12", "output_tokens": True, "cache_read_input_tokens": 3},
            vocabulary(None, None, cache_read=3),
            id="input unknown: the cache counts alone are not the input",
        ),
        pytest.param(
            {
                "input_tokens": 1,
                "output_tokens": 1,
                "cache_read_input_tokens": -5,
                "cache_creation_input_tokens": 2.5,
                "cache_creation": {"ephemeral_5m_input_tokens": "x"},
                "output_tokens_details": {"thinking_tokens": None},
            },
            vocabulary(1, 1),
            id="garbage cache and thinking counts",
        ),
        pytest.param(
            {"input_tokens": 1, "output_tokens": 1, "cache_creation": [4]},
            vocabulary(1, 1),
            id="a breakdown that is not an object",
        ),
    ],
)
def test_anthropic_garbage_does_not_crash(
    usage: dict[str, Any], expected: dict[str, int | None]
) -> None:
    assert counts(message_usage(usage)) == expected


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"usage": null}', b'{"usage": [1]}'])
def test_anthropic_bodies_without_usage(body: bytes) -> None:
    assert usage_from_message_body(body) is None


def test_count_tokens_is_counted_not_consumed() -> None:
    usage = usage_from_count_body(b'{"input_tokens": 2095}')
    assert usage is not None
    assert usage.counted_input_tokens == 2095
    assert counts(usage) == vocabulary(0, 0)
    assert usage.raw == {"input_tokens": 2095}
    garbage = usage_from_count_body(b'{"input_tokens": "many"}')
    assert garbage is not None
    assert garbage.counted_input_tokens is None
    assert usage_from_count_body(b"[]") is None
    assert usage_from_count_body(b"nope") is None
    assert counted_usage({"estimated": True}, 7).counted_input_tokens == 7


def test_as_count_takes_only_non_negative_integers() -> None:
    assert [as_count(v) for v in (0, 7, -1, True, False, 1.0, "1", None)] == [
        0,
        7,
        None,
        None,
        None,
        None,
        None,
        None,
    ]


# --- streams, split at every byte ------------------------------------------------------------


def _chunk(choices: str, usage: str = "null") -> str:
    head = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"o4-mini"'
    return f'data: {head},"choices":{choices},"usage":{usage}}}\n\n'


OPENAI_STREAM = (
    _chunk('[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]')
    + _chunk('[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]')
    + _chunk('[{"index":0,"delta":{},"finish_reason":"stop"}]')
    + _chunk("[]", orjson.dumps(OPENAI_CHAT_USAGE).decode())
    + "data: [DONE]\n\n"
).encode()

OPENAI_STREAM_WITHOUT_USAGE = (
    _chunk('[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]')
    + _chunk('[{"index":0,"delta":{},"finish_reason":"stop"}]')
    + "data: [DONE]\n\n"
).encode()

# What vLLM sends with continuous usage stats: every chunk carries the running totals.
OPENAI_STREAM_RUNNING_USAGE = (
    _chunk(
        '[{"index":0,"delta":{"content":"a"},"finish_reason":null}]',
        '{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}',
    )
    + _chunk(
        '[{"index":0,"delta":{"content":"b"},"finish_reason":"stop"}]',
        '{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}',
    )
    + "data: [DONE]\n\n"
).encode()


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {orjson.dumps(data).decode()}\n\n"


ANTHROPIC_START_USAGE = {
    "input_tokens": 12,
    "cache_creation_input_tokens": 2000,
    "cache_read_input_tokens": 30000,
    "cache_creation": {"ephemeral_5m_input_tokens": 2000, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 1,
    "service_tier": "standard",
}

ANTHROPIC_STREAM = (
    _event(
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-6",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": ANTHROPIC_START_USAGE,
            },
        },
    )
    + _event(
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    )
    + _event("ping", {"type": "ping"})
    + _event(
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
    )
    + _event("content_block_stop", {"type": "content_block_stop", "index": 0})
    # The cumulative count so far; a later message_delta replaces it.
    + _event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "pause_turn", "stop_sequence": None},
            "usage": {"output_tokens": 10},
        },
    )
    + _event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {
                "input_tokens": None,
                "cache_read_input_tokens": None,
                "output_tokens": 87,
                "output_tokens_details": {"thinking_tokens": 40},
            },
        },
    )
    + _event("message_stop", {"type": "message_stop"})
).encode()

ANTHROPIC_STREAM_USAGE = vocabulary(32012, 87, cache_read=30000, cache_write=2000, reasoning=40)


def splits(data: bytes) -> Iterator[list[bytes]]:
    """`data` in two pieces at every byte boundary, then one byte at a time."""
    for cut in range(len(data) + 1):
        yield [data[:cut], data[cut:]]
    yield [data[i : i + 1] for i in range(len(data))]


def observed(new_observer: Callable[[], Observer], pieces: list[bytes]) -> Observer:
    observer = new_observer()
    for piece in pieces:
        observer.feed(piece)
    return observer


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_openai_stream_usage_at_every_split(newline: str) -> None:
    data = OPENAI_STREAM.replace(b"\n", newline.encode())
    expected = vocabulary(2048, 300, cache_read=1536, reasoning=256)
    for pieces in splits(data):
        observer = observed(ChatStreamObserver, pieces)
        assert observer.complete
        assert counts(observer.usage) == expected, pieces


def test_openai_stream_running_usage_keeps_the_last() -> None:
    for pieces in splits(OPENAI_STREAM_RUNNING_USAGE):
        observer = observed(ChatStreamObserver, pieces)
        assert counts(observer.usage) == vocabulary(9, 2)


def test_openai_stream_without_usage_reports_none() -> None:
    observer = observed(ChatStreamObserver, [OPENAI_STREAM_WITHOUT_USAGE])
    assert observer.complete
    assert observer.usage is None


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_anthropic_stream_usage_at_every_split(newline: str) -> None:
    data = ANTHROPIC_STREAM.replace(b"\n", newline.encode())
    for pieces in splits(data):
        observer = observed(MessageStreamObserver, pieces)
        assert observer.complete
        assert counts(observer.usage) == ANTHROPIC_STREAM_USAGE, pieces


def test_anthropic_stream_cut_after_message_start_has_input_not_output() -> None:
    cut = ANTHROPIC_STREAM[: ANTHROPIC_STREAM.index(b"event: content_block_start")]
    observer = observed(MessageStreamObserver, [cut])
    assert not observer.complete
    # message_start's output_tokens is the count so far (1), not the answer's.
    assert counts(observer.usage) == vocabulary(32012, 1, cache_read=30000, cache_write=2000)


def test_anthropic_observer_usage_is_a_snapshot() -> None:
    observer = MessageStreamObserver()
    start = ANTHROPIC_STREAM[: ANTHROPIC_STREAM.index(b"event: content_block_start")]
    observer.feed(start)
    before = observer.usage
    observer.feed(ANTHROPIC_STREAM[len(start) :])
    assert before is not None
    assert before.output_tokens == 1
    assert before.raw["output_tokens"] == 1  # not changed by the later message_delta
