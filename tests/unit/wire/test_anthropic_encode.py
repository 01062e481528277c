"""Anthropic encoders: the official SDK parses and assembles what they produce."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import orjson
import pydantic
import pytest
from anthropic.types import Message, RawMessageStreamEvent

from dome.errors import UpstreamStreamError, UpstreamUnavailableError
from dome.wire.anthropic import MessageStreamEncoder, anthropic_tool_id, encode_message
from dome.wire.canonical import (
    BlockStart,
    BlockStop,
    ContentBlock,
    MessageDelta,
    MessageStart,
    MessageStop,
    RedactedThinkingBlock,
    Response,
    SignatureDelta,
    StopReason,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolArgumentsDelta,
    ToolCallBlock,
    Usage,
)

USAGE = Usage(input_tokens=25, output_tokens=87, cache_read_tokens=1800, cache_write_tokens=12)
STREAM_EVENT = pydantic.TypeAdapter[RawMessageStreamEvent](RawMessageStreamEvent)


def _response(*blocks: ContentBlock, stop: StopReason = "end_turn") -> Response:
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


def _frames(body: bytes) -> list[tuple[str, dict[str, Any]]]:
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


THINKING_TEXT_TOOL: list[StreamEvent] = [
    MessageStart("msg_1", "claude-test", Usage(input_tokens=25)),
    BlockStart(0, ThinkingBlock("")),
    ThinkingDelta(0, "User wants weather; "),
    ThinkingDelta(0, "call the tool."),
    SignatureDelta(0, "EqQBCkYIAhgC"),
    BlockStop(0),
    BlockStart(1, RedactedThinkingBlock("opaque")),
    BlockStop(1),
    BlockStart(2, TextBlock("")),
    TextDelta(2, "Let me check."),
    BlockStop(2),
    BlockStart(3, ToolCallBlock("functions.get_weather:3", "get_weather", "")),
    ToolArgumentsDelta(3, '{"city": "Paris"}'),
    BlockStop(3),
    MessageDelta("tool_use", Usage(output_tokens=87, reasoning_tokens=30)),
    MessageStop(),
]


def test_message_with_thinking_blocks_parses_as_message() -> None:
    response = _response(
        ThinkingBlock("hmm", "sig"),
        RedactedThinkingBlock("opaque"),
        TextBlock("Hello"),
    )
    message = Message.model_validate(encode_message(response))
    thinking, redacted, text = message.content
    assert thinking.type == "thinking"
    assert (thinking.thinking, thinking.signature) == ("hmm", "sig")
    assert redacted.type == "redacted_thinking"
    assert redacted.data == "opaque"
    assert text.type == "text"


def test_message_tool_ids_are_rewritten_into_anthropics_charset() -> None:
    call = ToolCallBlock("functions.get_weather:3", "get_weather", "{}")
    message = encode_message(_response(call, stop="tool_use"))
    assert message["content"][0] == {
        "type": "tool_use",
        "id": anthropic_tool_id("functions.get_weather:3"),
        "name": "get_weather",
        "input": {},
    }
    assert Message.model_validate(message).content[0].type == "tool_use"


def test_reasoning_tokens_are_reported_as_thinking_tokens() -> None:
    response = Response(
        "msg_1", "m", (TextBlock("x"),), "end_turn", Usage(1, 9, reasoning_tokens=4)
    )
    usage = Message.model_validate(encode_message(response)).usage
    assert usage.output_tokens_details is not None
    assert usage.output_tokens_details.thinking_tokens == 4


def test_stream_with_thinking_assembles_with_the_sdk() -> None:
    message = _final_message(_stream_bytes(THINKING_TEXT_TOOL))
    thinking, redacted, text, tool = message.content
    assert thinking.type == "thinking"
    assert thinking.thinking == "User wants weather; call the tool."
    assert thinking.signature == "EqQBCkYIAhgC"
    assert redacted.type == "redacted_thinking"
    assert redacted.data == "opaque"
    assert text.type == "text"
    assert text.text == "Let me check."
    assert tool.type == "tool_use"
    assert tool.id == anthropic_tool_id("functions.get_weather:3")
    assert tool.input == {"city": "Paris"}
    assert message.usage.output_tokens == 87


def test_thinking_events_validate_and_deltas_match_their_blocks() -> None:
    frames = _frames(_stream_bytes(THINKING_TEXT_TOOL))
    for name, data in frames:
        if name != "ping":
            STREAM_EVENT.validate_python(data)
    starts = {
        d["index"]: d["content_block"]["type"] for n, d in frames if n == "content_block_start"
    }
    assert starts == {0: "thinking", 1: "redacted_thinking", 2: "text", 3: "tool_use"}
    matching = {
        "thinking_delta": "thinking",
        "signature_delta": "thinking",
        "text_delta": "text",
        "input_json_delta": "tool_use",
    }
    deltas = [(d["index"], d["delta"]["type"]) for n, d in frames if n == "content_block_delta"]
    assert deltas
    assert all(starts[index] == matching[kind] for index, kind in deltas)


def test_thinking_block_starts_empty_and_redacted_starts_whole() -> None:
    frames = _frames(_stream_bytes(THINKING_TEXT_TOOL))
    starts = [data["content_block"] for name, data in frames if name == "content_block_start"]
    assert starts[0] == {"type": "thinking", "thinking": "", "signature": ""}
    assert starts[1] == {"type": "redacted_thinking", "data": "opaque"}


@pytest.mark.parametrize(
    "delta",
    [
        ThinkingDelta(0, "x"),
        SignatureDelta(0, "s"),
        ToolArgumentsDelta(0, "{}"),
        TextDelta(1, "not open"),
    ],
)
def test_a_delta_into_a_block_of_another_type_is_refused(delta: StreamEvent) -> None:
    encoder = MessageStreamEncoder()
    encoder.encode(MessageStart("msg_1", "m", Usage()))
    encoder.encode(BlockStart(0, TextBlock("")))
    with pytest.raises(UpstreamStreamError):
        encoder.encode(delta)
