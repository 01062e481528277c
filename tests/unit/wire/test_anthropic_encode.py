"""Anthropic encoders: the official SDK parses and assembles what they produce."""

from __future__ import annotations

import anthropic
import httpx2
import orjson
import pydantic
import pytest
from anthropic.types import Message, RawMessageStreamEvent

from dome.errors import UpstreamUnavailableError
from dome.wire.anthropic import MessageStreamEncoder, encode_message
from dome.wire.canonical import (
    BlockStart,
    BlockStop,
    MessageDelta,
    MessageStart,
    MessageStop,
    Response,
    StopReason,
    StreamEvent,
    TextBlock,
    TextDelta,
    ToolArgumentsDelta,
    ToolCallBlock,
    Usage,
)

USAGE = Usage(input_tokens=25, output_tokens=87, cache_read_tokens=1800, cache_write_tokens=12)
STREAM_EVENT = pydantic.TypeAdapter[RawMessageStreamEvent](RawMessageStreamEvent)


def _response(*blocks: TextBlock | ToolCallBlock, stop: StopReason = "end_turn") -> Response:
    return Response("msg_1", "claude-test", blocks, stop, USAGE)


def _stream_bytes(events: list[StreamEvent]) -> bytes:
    encoder = MessageStreamEncoder()
    return b"".join(encoder.encode(event) for event in events)


def _client(body: bytes) -> anthropic.Anthropic:
    def handler(_request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    return anthropic.Anthropic(
        api_key="x", base_url="http://mock.test", http_client=http, max_retries=0
    )


def _final_message(body: bytes) -> Message:
    with (
        _client(body) as client,
        client.messages.stream(
            model="claude-test",
            max_tokens=100,
            messages=[{"role": "user", "content": "hi"}],
        ) as stream,
    ):
        return stream.get_final_message()


def _frames(body: bytes) -> list[tuple[str, dict[str, object]]]:
    """(event name, data) of each SSE event; every event must have both lines."""
    frames = []
    for frame in body.split(b"\n\n")[:-1]:
        event_line, data_line = frame.split(b"\n")
        assert event_line.startswith(b"event: ")
        assert data_line.startswith(b"data: ")
        frames.append((event_line[7:].decode(), orjson.loads(data_line[6:])))
    return frames


TEXT_THEN_TOOL: list[StreamEvent] = [
    MessageStart("msg_1", "claude-test", Usage(input_tokens=25, cache_read_tokens=1800)),
    BlockStart(0, TextBlock("")),
    TextDelta(0, "Let me "),
    TextDelta(0, "check."),
    BlockStop(0),
    BlockStart(1, ToolCallBlock("toolu_1", "get_weather", "")),
    ToolArgumentsDelta(1, ""),
    ToolArgumentsDelta(1, '{"city": "Pa'),
    ToolArgumentsDelta(1, 'ris"}'),
    BlockStop(1),
    MessageDelta("tool_use", Usage(output_tokens=87)),
    MessageStop(),
]


def test_message_with_text_and_tool_use_parses_as_message() -> None:
    response = _response(
        TextBlock("Let me check."),
        ToolCallBlock("toolu_1", "get_weather", '{"city":"Paris"}'),
        stop="tool_use",
    )
    message = Message.model_validate(encode_message(response))
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.stop_reason == "tool_use"
    assert message.stop_sequence is None
    text, tool = message.content
    assert text.type == "text"
    assert text.text == "Let me check."
    assert tool.type == "tool_use"
    assert (tool.id, tool.name, tool.input) == (
        "toolu_1",
        "get_weather",
        {"city": "Paris"},
    )


def test_usage_reports_uncached_input_and_cache_counts_apart() -> None:
    usage = Message.model_validate(encode_message(_response(TextBlock("x")))).usage
    assert usage.input_tokens == 25
    assert usage.output_tokens == 87
    assert usage.cache_read_input_tokens == 1800
    assert usage.cache_creation_input_tokens == 12


def test_empty_arguments_become_an_empty_input() -> None:
    message = encode_message(_response(ToolCallBlock("toolu_1", "now", "  "), stop="tool_use"))
    assert message["content"] == [{"type": "tool_use", "id": "toolu_1", "name": "now", "input": {}}]


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]"])
def test_arguments_that_are_no_json_object_are_an_upstream_error(
    arguments: str,
) -> None:
    with pytest.raises(UpstreamUnavailableError):
        encode_message(_response(ToolCallBlock("toolu_1", "f", arguments), stop="tool_use"))


def test_empty_text_blocks_are_dropped() -> None:
    message = encode_message(_response(TextBlock(""), ToolCallBlock("t", "f", "{}")))
    assert [block["type"] for block in message["content"]] == ["tool_use"]


def test_stream_assembles_with_the_sdk() -> None:
    message = _final_message(_stream_bytes(TEXT_THEN_TOOL))
    assert message.id == "msg_1"
    assert message.stop_reason == "tool_use"
    text, tool = message.content
    assert text.type == "text"
    assert text.text == "Let me check."
    assert tool.type == "tool_use"
    assert (tool.id, tool.name, tool.input) == (
        "toolu_1",
        "get_weather",
        {"city": "Paris"},
    )
    # Input counts come from message_start, output from message_delta.
    assert message.usage.input_tokens == 25
    assert message.usage.cache_read_input_tokens == 1800
    assert message.usage.output_tokens == 87


def test_every_event_is_named_and_typed_like_its_data() -> None:
    frames = _frames(_stream_bytes(TEXT_THEN_TOOL))
    assert all(name == data["type"] for name, data in frames)
    names = [name for name, _ in frames]
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert names[-2:] == ["message_delta", "message_stop"]
    for name, data in frames:
        if name != "ping":
            STREAM_EVENT.validate_python(data)


def test_message_start_reports_input_and_at_least_one_output_token() -> None:
    (name, data), _ping = _frames(_stream_bytes(TEXT_THEN_TOOL[:1]))
    assert name == "message_start"
    message = data["message"]
    assert isinstance(message, dict)
    assert message["content"] == []
    assert message["usage"]["input_tokens"] == 25
    assert message["usage"]["output_tokens"] == 1


def test_block_starts_carry_empty_content() -> None:
    frames = _frames(_stream_bytes(TEXT_THEN_TOOL))
    starts = [data["content_block"] for name, data in frames if name == "content_block_start"]
    assert starts == [
        {"type": "text", "text": ""},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}},
    ]


def test_every_frame_is_one_sse_event() -> None:
    encoder = MessageStreamEncoder()
    frames = [frame for event in TEXT_THEN_TOOL for frame in encoder.frames(event)]
    assert all(frame.startswith(b"event: ") and frame.count(b"\n\n") == 1 for frame in frames)
    assert len(frames) == len(TEXT_THEN_TOOL) + 1  # the ping
