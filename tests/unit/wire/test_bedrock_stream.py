"""ConverseStream to canonical events: the spec's recorded frames at any byte split,
exceptions inside the stream, the event-stream adapter over botocore's parser."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from dome.errors import UpstreamStreamError
from dome.wire.bedrock import (
    ConverseStreamDecoder,
    ConverseStreamExceptionError,
    EventStreamDecoder,
)
from dome.wire.canonical import (
    BlockStart,
    BlockStop,
    MessageDelta,
    MessageStart,
    MessageStop,
    RedactedThinkingBlock,
    SignatureDelta,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolArgumentsDelta,
    ToolCallBlock,
    Usage,
)
from tests.fakes.bedrock_frames import event_frame, exception_frame, frame

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bedrock"
CONVERSE_STREAM = (FIXTURES / "bedrock-converse-stream.eventstream").read_bytes()
MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
EXCEPTION_STREAM = (FIXTURES / "bedrock-stream-exception.eventstream").read_bytes()

EXPECTED_EVENTS: list[StreamEvent] = [
    MessageStart("req-1", MODEL, Usage()),
    BlockStart(0, TextBlock("")),
    TextDelta(0, "Let me check."),
    BlockStop(0),
    BlockStart(1, ToolCallBlock("tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "get_weather", "")),
    ToolArgumentsDelta(1, '{"city": "Pa'),
    ToolArgumentsDelta(1, 'ris"}'),
    BlockStop(1),
    MessageDelta(
        "tool_use",
        Usage(input_tokens=412, output_tokens=61, cache_read_tokens=1800, cache_write_tokens=0),
    ),
    MessageStop(),
]


def _decode(data: bytes, size: int) -> tuple[list[StreamEvent], ConverseStreamDecoder]:
    decoder = ConverseStreamDecoder("req-1", MODEL)
    events: list[StreamEvent] = []
    for start in range(0, len(data), size):
        events.extend(decoder.feed(data[start : start + size]))
    return events, decoder


def test_the_adapter_yields_what_the_spec_decoded() -> None:
    expected = [
        json.loads(line)
        for line in (FIXTURES / "bedrock-converse-stream.decoded.jsonl").read_text().splitlines()
    ]

    messages = EventStreamDecoder().feed(CONVERSE_STREAM)

    assert [dict(m.headers) for m in messages] == [e["headers"] for e in expected]
    assert [json.loads(m.payload) for m in messages] == [e["payload"] for e in expected]


@pytest.mark.parametrize("size", [1, 3, 7, 64, len(CONVERSE_STREAM)])
def test_recorded_stream_decodes_at_any_split(size: int) -> None:
    events, decoder = _decode(CONVERSE_STREAM, size)

    assert events == EXPECTED_EVENTS
    assert decoder.complete


def _frames(data: bytes) -> list[bytes]:
    """The recorded stream cut at its frame boundaries (each frame starts with its length)."""
    frames, start = [], 0
    while start < len(data):
        (length,) = struct.unpack_from(">I", data, start)
        frames.append(data[start : start + length])
        start += length
    return frames


def test_stream_without_metadata_is_not_complete() -> None:
    frames = _frames(CONVERSE_STREAM)
    decoder = ConverseStreamDecoder("req-1", MODEL)

    events = decoder.feed(b"".join(frames[:-1]))

    assert events == EXPECTED_EVENTS[:-2]
    assert not decoder.complete


def test_recorded_exception_carries_a_rate_limit_failure() -> None:
    with pytest.raises(ConverseStreamExceptionError) as caught:
        ConverseStreamDecoder().feed(EXCEPTION_STREAM)

    assert caught.value.exception_type == "throttlingException"
    assert caught.value.failure.kind == "rate_limit"
    assert caught.value.failure.message.startswith("Too many tokens")
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("exception_type", "kind"),
    [
        ("modelStreamErrorException", "server"),
        ("serviceUnavailableException", "overloaded"),
        ("internalServerException", "server"),
        ("validationException", "invalid_request"),
        ("modelTimeoutException", "timeout"),
    ],
)
def test_exceptions_after_events_map_to_their_kind(exception_type: str, kind: str) -> None:
    decoder = ConverseStreamDecoder()
    assert decoder.feed(event_frame("messageStart", {"role": "assistant"}))

    with pytest.raises(ConverseStreamExceptionError) as caught:
        decoder.feed(exception_frame(exception_type, "went wrong"))

    assert caught.value.failure.kind == kind
    assert "went wrong" in str(caught.value)


def test_reasoning_blocks_open_on_their_first_delta() -> None:
    frames = [
        event_frame("messageStart", {"role": "assistant", "p": "abc"}),
        event_frame(
            "contentBlockDelta",
            {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "hmm"}}},
        ),
        event_frame(
            "contentBlockDelta",
            {"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "sig"}}},
        ),
        event_frame("contentBlockStop", {"contentBlockIndex": 0}),
        event_frame(
            "contentBlockDelta",
            {"contentBlockIndex": 1, "delta": {"reasoningContent": {"redactedContent": "AAE="}}},
        ),
        event_frame("contentBlockStop", {"contentBlockIndex": 1}),
        event_frame("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"text": "ok"}}),
        event_frame("contentBlockStop", {"contentBlockIndex": 2}),
        event_frame(
            "messageStop",
            {
                "stopReason": "stop_sequence",
                "additionalModelResponseFields": {"stop_sequence": "X"},
            },
        ),
        event_frame("metadata", {"usage": {"inputTokens": 5, "outputTokens": 9}}),
    ]

    events = ConverseStreamDecoder().feed(b"".join(frames))

    assert events[1:] == [
        BlockStart(0, ThinkingBlock("")),
        ThinkingDelta(0, "hmm"),
        SignatureDelta(0, "sig"),
        BlockStop(0),
        BlockStart(1, RedactedThinkingBlock("AAE=")),
        BlockStop(1),
        BlockStart(2, TextBlock("")),
        TextDelta(2, "ok"),
        BlockStop(2),
        MessageDelta("stop_sequence", Usage(input_tokens=5, output_tokens=9), "X"),
        MessageStop(),
    ]


def test_tool_call_without_input_delta_has_empty_arguments() -> None:
    frames = [
        event_frame("messageStart", {"role": "assistant"}),
        event_frame(
            "contentBlockStart",
            {"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t1", "name": "now"}}},
        ),
        event_frame("contentBlockStop", {"contentBlockIndex": 0}),
    ]

    events = ConverseStreamDecoder().feed(b"".join(frames))

    assert events[1:] == [BlockStart(0, ToolCallBlock("t1", "now", "")), BlockStop(0)]


@pytest.mark.parametrize(
    ("frames", "problem"),
    [
        (
            [event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "x"}})],
            "before messageStart",
        ),
        (
            [
                event_frame("messageStart", {"role": "assistant"}),
                event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "x"}}),
                event_frame(
                    "contentBlockDelta",
                    {"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{}"}}},
                ),
            ],
            "ToolCallBlock delta in block 0",
        ),
        (
            [
                event_frame("messageStart", {"role": "assistant"}),
                event_frame("contentBlockStop", {"contentBlockIndex": 3}),
            ],
            "never started",
        ),
        (
            [
                event_frame("messageStart", {"role": "assistant"}),
                event_frame("messageStop", {"stopReason": "tea_time"}),
            ],
            "unknown stop reason",
        ),
        (
            [
                event_frame("messageStart", {"role": "assistant"}),
                event_frame("metadata", {"usage": {"inputTokens": 1}}),
            ],
            "metadata before messageStop",
        ),
    ],
)
def test_malformed_streams_are_upstream_stream_errors(frames: list[bytes], problem: str) -> None:
    with pytest.raises(UpstreamStreamError, match=problem):
        ConverseStreamDecoder().feed(b"".join(frames))


def test_a_corrupted_frame_fails_botocore_checks() -> None:
    corrupted = bytearray(CONVERSE_STREAM)
    corrupted[20] ^= 0xFF

    with pytest.raises(UpstreamStreamError, match="malformed"):
        ConverseStreamDecoder().feed(bytes(corrupted))


def test_transport_error_messages_fail_the_stream() -> None:
    error = frame({":message-type": "error", ":error-code": "InternalFailure"}, b"")

    with pytest.raises(UpstreamStreamError, match="InternalFailure"):
        ConverseStreamDecoder().feed(error)


def test_unknown_event_types_are_skipped() -> None:
    frames = [
        event_frame("messageStart", {"role": "assistant"}),
        event_frame("somethingNew", {"x": 1}),
    ]

    assert ConverseStreamDecoder().feed(b"".join(frames)) == [MessageStart("", "", Usage())]
