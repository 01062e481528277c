"""Pooled answers name the model the agent asked for, whole or streamed in any split."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from dome.wire.model_name import StreamModelRenamer, renamed_answer

OPENAI_STREAM = (
    b'data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18",'
    b'"choices":[{"index":0,"delta":{"content":"say \\"model\\":\\"gpt-4o-mini-2024-07-18\\""}}]}\n\n'
    b'data: {"id":"c1","object":"chat.completion.chunk","model": "gpt-4o-mini-2024-07-18",'
    b'"choices":[]}\n\n'
    b"data: [DONE]\n\n"
)
EXPECTED = OPENAI_STREAM.replace(b'"model":"gpt-4o-mini-2024-07-18"', b'"model":"cheap"').replace(
    b'"model": "gpt-4o-mini-2024-07-18"', b'"model": "cheap"'
)


def test_whole_answers_are_renamed_byte_faithfully() -> None:
    body = b'{"id":"x", "model" : "claude-sonnet-4-6","content":[]}'
    assert renamed_answer(body, "assistant") == (b'{"id":"x", "model" : "assistant","content":[]}')
    assert renamed_answer(b'{"error":{"type":"x"}}', "assistant") == b'{"error":{"type":"x"}}'


def test_escaped_text_that_looks_like_a_member_is_left_alone() -> None:
    renamer = StreamModelRenamer("gpt-4o-mini-2024-07-18", "cheap")
    out = renamer.feed(OPENAI_STREAM) + renamer.flush()
    assert out == EXPECTED
    assert b'\\"model\\":\\"gpt-4o-mini-2024-07-18\\"' in out  # inside content: untouched


@given(st.lists(st.integers(min_value=1, max_value=len(OPENAI_STREAM)), max_size=12))
def test_any_split_gives_the_same_bytes(cuts: list[int]) -> None:
    renamer = StreamModelRenamer("gpt-4o-mini-2024-07-18", "cheap")
    points = sorted(set(cuts))
    pieces = [
        OPENAI_STREAM[a:b] for a, b in zip([0, *points], [*points, len(OPENAI_STREAM)], strict=True)
    ]
    assert b"".join(renamer.feed(piece) for piece in pieces) + renamer.flush() == EXPECTED


def test_complete_events_are_never_held_back() -> None:
    renamer = StreamModelRenamer("claude-haiku-4-5", "assistant")
    event = b'event: message_start\ndata: {"message":{"model":"claude-haiku-4-5"}}\n\n'
    out = renamer.feed(event)
    assert out.endswith(b"\n\n")
    assert orjson.loads(out.split(b"data: ")[1])["message"]["model"] == "assistant"
    assert renamer.feed(b'data: {"x":1,"mod') == b'data: {"x":1,'  # a possible start waits
    assert renamer.feed(b'e":2}\n\n') == b'"mode":2}\n\n'
