"""Observers read usage and completeness off relayed streams without changing them."""

from __future__ import annotations

from pathlib import Path

import pytest

from dome.wire.anthropic.observe import MessageStreamObserver, usage_from_message_body
from dome.wire.openai.observe import ChatStreamObserver, usage_from_chat_body

# Copies of shared/specs/examples, validated there against the SDK types.
EXAMPLES = Path(__file__).parent / "examples"


def feed_in_pieces(
    observer: ChatStreamObserver | MessageStreamObserver, data: bytes, size: int
) -> None:
    for start in range(0, len(data), size):
        observer.feed(data[start : start + size])


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_openai_example_stream(size: int) -> None:
    observer = ChatStreamObserver()
    feed_in_pieces(observer, (EXAMPLES / "openai-chat-stream-tools-usage.sse").read_bytes(), size)
    assert observer.complete
    assert observer.usage is not None
    assert observer.usage.input_tokens == observer.usage.raw["prompt_tokens"] > 0
    assert observer.error is None


@pytest.mark.parametrize("size", [1, 13, 4096])
def test_anthropic_example_stream(size: int) -> None:
    observer = MessageStreamObserver()
    feed_in_pieces(
        observer, (EXAMPLES / "anthropic-messages-stream-thinking-tool.sse").read_bytes(), size
    )
    assert observer.complete
    usage = observer.usage
    assert usage is not None
    assert usage.input_tokens is not None
    assert usage.input_tokens > 0
    assert usage.output_tokens is not None
    assert usage.output_tokens > 1


def test_openai_error_event_and_missing_done() -> None:
    observer = ChatStreamObserver()
    observer.feed(
        b'data: {"choices":[]}\n\ndata: {"error": {"message": "boom", "type": "server_error"}}\n\n'
    )
    assert observer.error == {"message": "boom", "type": "server_error"}
    assert not observer.complete


def test_anthropic_error_event() -> None:
    observer = MessageStreamObserver()
    observer.feed(
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"x"}}\n\n'
    )
    assert observer.error == {"type": "overloaded_error", "message": "x"}


def test_usage_from_whole_bodies() -> None:
    chat = usage_from_chat_body(
        b'{"usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}'
    )
    assert chat is not None
    assert (chat.input_tokens, chat.output_tokens) == (3, 4)
    message = usage_from_message_body(b'{"usage": {"input_tokens": 5, "output_tokens": 6}}')
    assert message is not None
    assert (message.input_tokens, message.output_tokens) == (5, 6)
    assert usage_from_chat_body(b"not json") is None
    assert usage_from_message_body(b"[]") is None
