"""The SSE decoder gives the same events however the bytes are split."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from dome.wire.sse import MarkedEventScanner, SseDecoder, SseEvent

STREAM = (
    b'event: message_start\ndata: {"a":1}\n\n'
    b": a comment\r\n"
    b"event: ping\r\ndata: {}\r\n\r\n"
    b"data: line one\ndata: line two\n\n"
    b"data:no-space\r\r"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    SseEvent("message_start", b'{"a":1}'),
    SseEvent("ping", b"{}"),
    SseEvent(None, b"line one\nline two"),
    SseEvent(None, b"no-space"),
    SseEvent(None, b"[DONE]"),
]


def decode(chunks: list[bytes]) -> list[SseEvent]:
    decoder = SseDecoder()
    return [event for chunk in chunks for event in decoder.feed(chunk)]


def test_whole_stream() -> None:
    assert decode([STREAM]) == EXPECTED


def test_byte_by_byte() -> None:
    assert decode([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_split(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(STREAM)]
    chunks = [STREAM[a:b] for a, b in itertools.pairwise(points)]
    assert decode(chunks) == EXPECTED


def test_incomplete_event_is_held_back() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: partial") == []
    assert decoder.feed(b"\n\n") == [SseEvent(None, b"partial")]


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_marked_scanner_finds_marked_events_under_any_split(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(STREAM)]
    scanner = MarkedEventScanner((b"[DONE]", b"message_start"))
    found = [e for a, b in itertools.pairwise(points) for e in scanner.feed(STREAM[a:b])]
    wanted = [EXPECTED[0], EXPECTED[-1]]
    assert [e for e in found if e in wanted] == wanted


def test_marked_scanner_skips_unmarked_segments() -> None:
    scanner = MarkedEventScanner((b"[DONE]",))
    assert scanner.feed(b'data: {"delta": "x"}\n\n') == []
    assert scanner.feed(b"data: [DO") == []
    assert scanner.feed(b"NE]\n\n") == [SseEvent(None, b"[DONE]")]
