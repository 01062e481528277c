"""A translated call reports the usage the same answer forwarded would (docs/usage.md):
`reported_usage` of the canonical form equals the same-format readers' vocabulary."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from dome.server.translated import _StreamTranslator, reported_usage
from dome.wire.anthropic.encode import encode_usage as anthropic_usage
from dome.wire.anthropic.observe import MessageStreamObserver, message_usage
from dome.wire.canonical import Usage
from dome.wire.codecs import ANTHROPIC_MESSAGES_CODEC, OPENAI_CHAT_CODEC, ChatCodec
from dome.wire.openai.encode import encode_usage as openai_usage
from dome.wire.openai.observe import ChatStreamObserver, chat_usage
from dome.wire.usage import ReportedUsage


def counts(usage: ReportedUsage | None) -> tuple[int | None, ...]:
    assert usage is not None
    return (
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.reasoning_tokens,
        usage.total_tokens,
        usage.request_units,
    )


OPENAI_USAGE = {
    "prompt_tokens": 2048,
    "completion_tokens": 300,
    "total_tokens": 2348,
    "prompt_tokens_details": {"cached_tokens": 1536, "cache_write_tokens": 200},
    "completion_tokens_details": {"reasoning_tokens": 256},
}
ANTHROPIC_USAGE = {
    "input_tokens": 12,
    "cache_creation_input_tokens": 2000,
    "cache_read_input_tokens": 30000,
    "output_tokens": 87,
    "output_tokens_details": {"thinking_tokens": 40},
}


def test_whole_openai_answer_translated_reports_what_forwarded_would() -> None:
    body = orjson.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "o4-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hi"},
                    "finish_reason": "stop",
                }
            ],
            "usage": OPENAI_USAGE,
        }
    )
    translated = reported_usage(OPENAI_CHAT_CODEC.decode_response(body).usage)
    assert counts(translated) == counts(chat_usage(OPENAI_USAGE))
    assert counts(translated) == (2048, 300, 1536, 200, 256, 2348, None)


def test_whole_anthropic_answer_translated_reports_what_forwarded_would() -> None:
    body = orjson.dumps(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-6",
            "content": [{"type": "text", "text": "Hi"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": ANTHROPIC_USAGE,
        }
    )
    translated = reported_usage(ANTHROPIC_MESSAGES_CODEC.decode_response(body).usage)
    assert counts(translated) == counts(message_usage(ANTHROPIC_USAGE))
    assert counts(translated) == (32012, 87, 30000, 2000, 40, 32099, None)


def _translated_stream_usage(
    provider: ChatCodec, agent: ChatCodec, data: bytes, piece: int
) -> ReportedUsage | None:
    request = OPENAI_CHAT_CODEC.decode_request(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )
    translator = _StreamTranslator(provider, agent.new_stream_encoder(request, 1), None)
    for start in range(0, len(data), piece):
        translator.translate(data[start : start + piece])
    assert translator.complete
    return translator.usage


def _sse_data(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def _anthropic_event(name: str, payload: dict[str, Any]) -> bytes:
    return f"event: {name}\n".encode() + _sse_data(payload)


def test_openai_stream_translated_reports_what_forwarded_would() -> None:
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    stream = (
        _sse_data(
            {
                **head,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": "Hi"},
                        "finish_reason": None,
                    }
                ],
            }
        )
        + _sse_data({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        + _sse_data({**head, "choices": [], "usage": OPENAI_USAGE})
        + b"data: [DONE]\n\n"
    )
    forwarded = ChatStreamObserver()
    forwarded.feed(stream)
    for piece in (1, 7, len(stream)):
        translated = _translated_stream_usage(
            OPENAI_CHAT_CODEC, ANTHROPIC_MESSAGES_CODEC, stream, piece
        )
        assert counts(translated) == counts(forwarded.usage)
    assert counts(forwarded.usage) == (2048, 300, 1536, 200, 256, 2348, None)


def test_anthropic_stream_translated_reports_what_forwarded_would() -> None:
    start_usage = {**ANTHROPIC_USAGE, "output_tokens": 1}
    del start_usage["output_tokens_details"]
    stream = (
        _anthropic_event(
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
                    "usage": start_usage,
                },
            },
        )
        + _anthropic_event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        )
        + _anthropic_event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "Hi"},
            },
        )
        + _anthropic_event("content_block_stop", {"type": "content_block_stop", "index": 0})
        + _anthropic_event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 87, "output_tokens_details": {"thinking_tokens": 40}},
            },
        )
        + _anthropic_event("message_stop", {"type": "message_stop"})
    )
    forwarded = MessageStreamObserver()
    forwarded.feed(stream)
    for piece in (1, 13, len(stream)):
        translated = _translated_stream_usage(
            ANTHROPIC_MESSAGES_CODEC, OPENAI_CHAT_CODEC, stream, piece
        )
        assert counts(translated) == counts(forwarded.usage)
    assert counts(forwarded.usage) == (32012, 87, 30000, 2000, 40, 32099, None)


counts_st = st.integers(min_value=0, max_value=10**9)


@given(uncached=counts_st, output=counts_st, read=counts_st, write=counts_st, reasoning=counts_st)
def test_canonical_usage_encoded_reads_back_the_same(
    uncached: int, output: int, read: int, write: int, reasoning: int
) -> None:
    """What the broker (or the mock provider) encodes in either format reads back as
    `reported_usage` of the canonical usage it came from."""
    usage = Usage(uncached, output, read, write, reasoning)
    expected = counts(reported_usage(usage))
    assert expected[0] == uncached + read + write
    assert counts(chat_usage(openai_usage(usage))) == expected
    assert counts(message_usage(anthropic_usage(usage))) == expected
