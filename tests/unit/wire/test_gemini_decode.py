"""Gemini answers and alt=sse streams to canonical form (WIRE-FORMATS 5.3, 5.4, 6.2, 6.3)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dome.errors import UpstreamStreamError, UpstreamUnavailableError
from dome.wire.canonical import (
    BlockStart,
    BlockStop,
    ContentBlock,
    MessageDelta,
    MessageStart,
    MessageStop,
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
from dome.wire.gemini import GenerateContentStreamDecoder, decode_generate_content

EXAMPLE = (
    Path(__file__).parents[2] / "fixtures" / "gemini" / "gemini-streamGenerateContent-alt-sse.sse"
)

USAGE = {
    "promptTokenCount": 31,
    "candidatesTokenCount": 18,
    "thoughtsTokenCount": 112,
    "cachedContentTokenCount": 10,
    "toolUsePromptTokenCount": 2,
    "totalTokenCount": 163,
}


def _answer(parts: Sequence[object], finish: str = "STOP", **extra: object) -> bytes:
    candidate = {"content": {"role": "model", "parts": parts}, "finishReason": finish}
    body = {"candidates": [candidate], "responseId": "r-1", "modelVersion": "gemini-2.5-flash"}
    return orjson.dumps({**body, **extra})


def test_text_thought_and_call_answer() -> None:
    body = _answer(
        [
            {"text": "thinking ", "thought": True},
            {"text": "more", "thought": True, "thoughtSignature": "sig-t"},
            {"text": "Let me "},
            {"text": "check."},
            {
                "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                "thoughtSignature": "sig-c",
            },
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}, "id": "g-7"}},
        ],
        usageMetadata=USAGE,
    )

    response = decode_generate_content(body)

    assert response.id == "r-1"
    assert response.model == "gemini-2.5-flash"
    assert response.content == (
        ThinkingBlock("thinking more", "sig-t"),
        TextBlock("Let me check."),
        ThinkingBlock("", "sig-c"),
        ToolCallBlock("call_r-1_0", "get_weather", '{"city":"Paris"}'),
        ToolCallBlock("g-7", "get_weather", '{"city":"Rome"}'),
    )
    assert response.stop_reason == "tool_use"
    # cached tokens are inside promptTokenCount; thoughts are outside candidatesTokenCount
    assert response.usage == Usage(
        input_tokens=31 - 10 + 2, output_tokens=18 + 112, cache_read_tokens=10, reasoning_tokens=112
    )


@pytest.mark.parametrize(
    ("finish", "stop"),
    [
        ("STOP", "end_turn"),
        ("MAX_TOKENS", "max_tokens"),
        ("SAFETY", "refusal"),
        ("RECITATION", "refusal"),
        ("IMAGE_SAFETY", "refusal"),
        ("MALFORMED_FUNCTION_CALL", "end_turn"),
        ("OTHER", "end_turn"),
        ("SOMETHING_NEW", "end_turn"),
    ],
)
def test_finish_reasons(finish: str, stop: str) -> None:
    assert decode_generate_content(_answer([{"text": "x"}], finish)).stop_reason == stop


def test_usage_without_candidates_count_comes_from_the_total() -> None:
    usage = {"promptTokenCount": 10, "thoughtsTokenCount": 5, "totalTokenCount": 22}

    response = decode_generate_content(_answer([{"text": "x"}], usageMetadata=usage))

    assert response.usage == Usage(input_tokens=10, output_tokens=12, reasoning_tokens=5)


def test_blocked_prompt_is_a_refusal_without_content() -> None:
    body = orjson.dumps({"promptFeedback": {"blockReason": "SAFETY"}, "responseId": "r-2"})

    response = decode_generate_content(body)

    assert response.content == ()
    assert response.stop_reason == "refusal"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"{}",
        orjson.dumps({"candidates": [{"content": {"parts": [{"text": 3}]}}]}),
        orjson.dumps({"candidates": [{"content": {"parts": [{"functionCall": {"args": {}}}]}}]}),
        orjson.dumps(
            {"candidates": [{"content": {"parts": []}}], "usageMetadata": {"promptTokenCount": "1"}}
        ),
    ],
)
def test_malformed_answers(body: bytes) -> None:
    with pytest.raises(UpstreamUnavailableError):
        decode_generate_content(body)


def _decode_all(chunks: list[bytes]) -> tuple[list[StreamEvent], GenerateContentStreamDecoder]:
    decoder = GenerateContentStreamDecoder()
    events: list[StreamEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    return events, decoder


EXAMPLE_EVENTS: list[StreamEvent] = [
    MessageStart("r-1", "gemini-2.5-flash", Usage(input_tokens=31)),
    BlockStart(0, ThinkingBlock("")),
    SignatureDelta(0, "CiQB0e2KbwQ="),
    BlockStop(0),
    BlockStart(1, TextBlock("")),
    TextDelta(1, "Let me check"),
    TextDelta(1, "."),
    BlockStop(1),
    BlockStart(2, ToolCallBlock("call_r-1_0", "get_weather", "")),
    ToolArgumentsDelta(2, '{"city":"Paris"}'),
    BlockStop(2),
    MessageDelta("tool_use", Usage(input_tokens=31, output_tokens=130, reasoning_tokens=112)),
    MessageStop(),
]


@pytest.mark.parametrize("size", [1, 7, 64, 100_000])
def test_spec_example_stream_in_any_split(size: int) -> None:
    raw = EXAMPLE.read_bytes()
    assert b"\r\n" in raw  # CRLF framing, as observed on the wire

    events, decoder = _decode_all([raw[i : i + size] for i in range(0, len(raw), size)])

    assert events == EXAMPLE_EVENTS
    assert decoder.complete


def test_streamed_thoughts_then_text() -> None:
    def chunk(parts: list[object], **extra: object) -> bytes:
        body = {"candidates": [{"content": {"role": "model", "parts": parts}, **extra}]}
        return b"data: " + orjson.dumps(body) + b"\n\n"

    events, decoder = _decode_all(
        [
            chunk([{"text": "hm", "thought": True}]),
            chunk(
                [
                    {"text": "m", "thought": True},
                    {"text": "", "thought": True, "thoughtSignature": "s"},
                ]
            ),
            chunk([{"text": "Hi"}], finishReason="MAX_TOKENS"),
        ]
    )

    assert events[1:] == [
        BlockStart(0, ThinkingBlock("")),
        ThinkingDelta(0, "hm"),
        ThinkingDelta(0, "m"),
        SignatureDelta(0, "s"),
        BlockStop(0),
        BlockStart(1, TextBlock("")),
        TextDelta(1, "Hi"),
        BlockStop(1),
        MessageDelta("max_tokens", Usage()),
        MessageStop(),
    ]
    assert decoder.complete


def test_stream_without_finish_reason_is_not_complete() -> None:
    raw = EXAMPLE.read_bytes()
    first = raw[: raw.index(b"\r\n\r\n") + 4]

    events, decoder = _decode_all([first])

    assert isinstance(events[0], MessageStart)
    assert not decoder.complete


def test_error_chunk_raises() -> None:
    error = {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}

    with pytest.raises(UpstreamStreamError, match="UNAVAILABLE: overloaded"):
        GenerateContentStreamDecoder().feed(b"data: " + orjson.dumps(error) + b"\n\n")


def test_bad_json_chunk_raises() -> None:
    with pytest.raises(UpstreamStreamError, match="malformed"):
        GenerateContentStreamDecoder().feed(b"data: {nope\n\n")


_SIGNATURES = st.sampled_from(["", "c2ln"])
_TEXT = st.text(alphabet="ab ", max_size=4)
_PARTS = st.one_of(
    st.builds(lambda t, s: {"text": t, "thoughtSignature": s}, _TEXT, _SIGNATURES),
    st.builds(lambda t, s: {"text": t, "thought": True, "thoughtSignature": s}, _TEXT, _SIGNATURES),
    st.builds(
        lambda n, s: {"functionCall": {"name": "f", "args": {"n": n}}, "thoughtSignature": s},
        st.integers(0, 9),
        _SIGNATURES,
    ),
)


def _blocks(events: list[StreamEvent]) -> list[ContentBlock]:
    """The blocks a stream's events build, as a client reassembles them."""
    blocks: dict[int, ContentBlock] = {}
    for event in events:
        match event:
            case BlockStart(index=index, block=block):
                blocks[index] = block
            case TextDelta(index=index, text=text):
                blocks[index] = TextBlock(blocks[index].text + text)  # type: ignore[union-attr]
            case ThinkingDelta(index=index, text=text):
                old = blocks[index]
                assert isinstance(old, ThinkingBlock)
                blocks[index] = ThinkingBlock(old.text + text, old.signature)
            case SignatureDelta(index=index, signature=signature):
                old = blocks[index]
                assert isinstance(old, ThinkingBlock)
                blocks[index] = ThinkingBlock(old.text, signature)
            case ToolArgumentsDelta(index=index, partial_json=partial):
                old = blocks[index]
                assert isinstance(old, ToolCallBlock)
                blocks[index] = ToolCallBlock(old.id, old.name, old.arguments + partial)
    return [blocks[index] for index in sorted(blocks)]


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(_PARTS, max_size=8),
    cuts=st.lists(st.integers(0, 8), max_size=3),
    finish=st.sampled_from(["STOP", "MAX_TOKENS", "SAFETY"]),
)
def test_a_stream_builds_what_the_whole_answer_holds(
    parts: list[dict[str, object]], cuts: list[int], finish: str
) -> None:
    envelope = {"responseId": "r-1", "modelVersion": "gemini-2.5-flash", "usageMetadata": USAGE}
    whole = decode_generate_content(_answer(parts, finish, usageMetadata=USAGE))
    bounds = sorted({0, len(parts), *(min(cut, len(parts)) for cut in cuts)})
    groups = [parts[a:b] for a, b in itertools.pairwise(bounds)] or [[]]
    frames = b""
    for position, group in enumerate(groups):
        candidate: dict[str, object] = {"content": {"role": "model", "parts": group}}
        if position == len(groups) - 1:
            candidate["finishReason"] = finish
        frames += b"data: " + orjson.dumps({"candidates": [candidate], **envelope}) + b"\r\n\r\n"

    events, decoder = _decode_all([frames[i : i + 13] for i in range(0, len(frames), 13)])

    assert decoder.complete
    assert tuple(_blocks(events)) == whole.content
    final = events[-2]
    assert isinstance(final, MessageDelta)
    assert (final.stop_reason, final.usage) == (whole.stop_reason, whole.usage)
