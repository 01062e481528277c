"""Claude through InvokeModel: the body rewrite, and the recorded response stream
(botocore-parsed frames, base64 chunks) to Anthropic SSE and canonical events."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from dome.errors import UpstreamStreamError
from dome.wire.bedrock import (
    ConverseStreamExceptionError,
    InvokeStreamDecoder,
    InvokeStreamTranslator,
    to_invoke_body,
)
from dome.wire.canonical import (
    BlockStart,
    BlockStop,
    MessageDelta,
    MessageStart,
    MessageStop,
    StreamEvent,
    TextBlock,
    TextDelta,
    Usage,
)
from tests.fakes.bedrock_frames import event_frame, exception_frame

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bedrock"
INVOKE_STREAM = (FIXTURES / "bedrock-invoke-anthropic-stream.eventstream").read_bytes()
DECODED = [
    json.loads(line)["decoded_bytes"]
    for line in (FIXTURES / "bedrock-invoke-anthropic-stream.decoded.jsonl")
    .read_text()
    .splitlines()
]


def _chunk(event: dict[str, object]) -> bytes:
    encoded = base64.b64encode(json.dumps(event).encode()).decode()
    return event_frame("chunk", {"bytes": encoded})


def test_invoke_body_drops_model_and_stream_and_names_the_version() -> None:
    body = {"model": "claude", "stream": True, "max_tokens": 10, "messages": [], "top_k": 3}

    assert to_invoke_body(body, betas=["interleaved-thinking-2025-05-14"]) == {
        "max_tokens": 10,
        "messages": [],
        "top_k": 3,
        "anthropic_version": "bedrock-2023-05-31",
        "anthropic_beta": ["interleaved-thinking-2025-05-14"],
    }
    assert "anthropic_beta" not in to_invoke_body(body)


@pytest.mark.parametrize("size", [1, 5, 100, len(INVOKE_STREAM)])
def test_recorded_stream_becomes_anthropic_sse(size: int) -> None:
    translator = InvokeStreamTranslator()

    sse = b"".join(
        translator.feed(INVOKE_STREAM[start : start + size])
        for start in range(0, len(INVOKE_STREAM), size)
    )

    frames = [frame for frame in sse.decode().split("\n\n") if frame]
    assert [frame.split("\n")[0] for frame in frames] == [f"event: {e['type']}" for e in DECODED]
    assert [json.loads(frame.split("\n")[1].removeprefix("data: ")) for frame in frames] == DECODED


def test_recorded_stream_decodes_to_canonical_events() -> None:
    decoder = InvokeStreamDecoder()

    events: list[StreamEvent] = decoder.feed(INVOKE_STREAM)

    assert events == [
        MessageStart(
            "msg_bdrk_01", "claude-sonnet-4-5-20250929", Usage(input_tokens=18, output_tokens=1)
        ),
        BlockStart(0, TextBlock("")),
        TextDelta(0, "Hello!"),
        BlockStop(0),
        MessageDelta("end_turn", Usage(output_tokens=5)),
        MessageStop(),
    ]
    assert decoder.complete


def test_exceptions_inside_the_stream_carry_their_failure() -> None:
    decoder = InvokeStreamDecoder()
    decoder.feed(_chunk(DECODED[0]))

    with pytest.raises(ConverseStreamExceptionError) as caught:
        decoder.feed(exception_frame("modelTimeoutException", "too slow"))

    assert caught.value.failure.kind == "timeout"
    assert not decoder.complete


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (event_frame("chunk", {"bytes": "!!notbase64"}), "not base64 JSON"),
        (event_frame("chunk", {"other": 1}), "holds no bytes"),
        (_chunk({"no": "type"}), "no event type"),
        (event_frame("messageStart", {"role": "assistant"}), "messageStart, not a chunk"),
    ],
)
def test_malformed_chunks_fail_the_stream(frame: bytes, problem: str) -> None:
    with pytest.raises(UpstreamStreamError, match=problem):
        InvokeStreamTranslator().feed(frame)
