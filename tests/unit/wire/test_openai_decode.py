"""Upstream Chat Completions answers, whole and streamed, and error bodies, to canonical
form; round trips through the encoders."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dome.errors import UpstreamStreamError, UpstreamUnavailableError
from dome.wire.canonical import (
    BlockStart,
    BlockStop,
    ContentBlock,
    Failure,
    FailureKind,
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
from dome.wire.openai import (
    ChatStreamDecoder,
    ChatStreamEncoder,
    decode_chat_completion,
    encode_chat_completion,
    read_failure,
)

# A copy of shared/specs/examples, validated there against the SDK types.
EXAMPLES = Path(__file__).parent / "examples"
FIXTURE = (EXAMPLES / "openai-chat-stream-tools-usage.sse").read_bytes()

FIXTURE_EVENTS: list[StreamEvent] = [
    MessageStart("chatcmpl-123", "gpt-4.1-2025-04-14", Usage()),
    BlockStart(0, TextBlock("")),
    TextDelta(0, "Let me check."),
    BlockStop(0),
    BlockStart(1, ToolCallBlock("call_abc", "get_weather", "")),
    ToolArgumentsDelta(1, '{"city":'),
    ToolArgumentsDelta(1, ' "Paris"}'),
    BlockStop(1),
    BlockStart(2, ToolCallBlock("call_def", "get_time", "")),
    ToolArgumentsDelta(2, '{"tz": "CET"}'),
    BlockStop(2),
    # prompt_tokens 1200 include the 1024 cached (WIRE-FORMATS 6.3).
    MessageDelta("tool_use", Usage(input_tokens=176, output_tokens=41, cache_read_tokens=1024)),
    MessageStop(),
]


def _completion(message: dict[str, Any], finish: str = "stop", **fields: Any) -> bytes:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-test",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        **fields,
    }
    return orjson.dumps(body)


def _frame(data: object) -> bytes:
    return b"data: " + orjson.dumps(data) + b"\n\n"


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return _frame(
        {"id": "c-1", "object": "chat.completion.chunk", "model": "m", "choices": [choice]}
    )


DONE = b"data: [DONE]\n\n"
START = _chunk({"role": "assistant", "content": ""})


def _decode(body: bytes) -> tuple[list[StreamEvent], bool]:
    decoder = ChatStreamDecoder()
    events = decoder.feed(body)
    return events, decoder.complete


# --- whole answers ------------------------------------------------------------------


def test_text_answer_with_usage() -> None:
    usage = {
        "prompt_tokens": 1200,
        "completion_tokens": 41,
        "total_tokens": 1241,
        "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 24},
        "completion_tokens_details": {"reasoning_tokens": 7},
    }
    body = _completion({"role": "assistant", "content": "Hello"}, usage=usage)
    assert decode_chat_completion(body) == Response(
        "chatcmpl-1",
        "gpt-test",
        (TextBlock("Hello"),),
        "end_turn",
        Usage(
            input_tokens=176,
            output_tokens=41,
            cache_read_tokens=1000,
            cache_write_tokens=24,
            reasoning_tokens=7,
        ),
    )


def test_tool_calls_keep_their_argument_text() -> None:
    calls = [
        {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
        {"id": "call_b", "type": "function", "function": {"name": "g", "arguments": ""}},
    ]
    body = _completion({"role": "assistant", "content": None, "tool_calls": calls}, "tool_calls")
    response = decode_chat_completion(body)
    assert response.content == (
        ToolCallBlock("call_a", "f", '{"x": 1}'),
        ToolCallBlock("call_b", "g", ""),
    )
    assert response.stop_reason == "tool_use"
    assert response.usage == Usage()  # no usage object: zeros


def test_arguments_sent_as_an_object_become_json_text() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}
    body = _completion({"role": "assistant", "tool_calls": [call]}, "tool_calls")
    assert decode_chat_completion(body).content == (ToolCallBlock("c", "f", '{"x":1}'),)


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_of_self_hosted_servers_leads_as_unsigned_thinking(field: str) -> None:
    body = _completion({"role": "assistant", "content": "4", field: "2+2 is 4"})
    assert decode_chat_completion(body).content == (ThinkingBlock("2+2 is 4"), TextBlock("4"))


def test_thinking_blocks_win_over_reasoning_text() -> None:
    message = {
        "role": "assistant",
        "content": "4",
        "reasoning_content": "2+2",
        "thinking_blocks": [
            {"type": "thinking", "thinking": "2+2", "signature": "sig"},
            {"type": "redacted_thinking", "data": "opaque"},
        ],
    }
    assert decode_chat_completion(_completion(message)).content == (
        ThinkingBlock("2+2", "sig"),
        RedactedThinkingBlock("opaque"),
        TextBlock("4"),
    )


@pytest.mark.parametrize(
    ("finish", "stop"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_use"),
        ("function_call", "tool_use"),
        ("content_filter", "refusal"),
        ("abort", "end_turn"),
    ],
)
def test_finish_reasons_follow_the_mapping_table(finish: str, stop: StopReason) -> None:
    body = _completion({"role": "assistant", "content": "x"}, finish)
    assert decode_chat_completion(body).stop_reason == stop


def test_stop_after_tool_calls_is_tool_use() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    body = _completion({"role": "assistant", "tool_calls": [call]}, "stop")
    assert decode_chat_completion(body).stop_reason == "tool_use"


def test_a_refusal_is_text_with_stop_reason_refusal() -> None:
    body = _completion({"role": "assistant", "content": None, "refusal": "I can't."})
    response = decode_chat_completion(body)
    assert (response.content, response.stop_reason) == ((TextBlock("I can't."),), "refusal")


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b"[]",
        orjson.dumps({"id": "x", "model": "m", "choices": []}),
        orjson.dumps({"id": "x", "model": "m"}),
        orjson.dumps({"model": "m", "choices": [{"message": {}, "finish_reason": "stop"}]}),
        _completion({"role": "assistant", "content": 5}),
        _completion({"role": "assistant", "content": "x"}, usage={"prompt_tokens": "many"}),
        _completion({"role": "assistant", "tool_calls": [{"id": "c"}]}),
        _completion({"role": "assistant", "content": "x"}, finish=None),  # type: ignore[arg-type]
    ],
)
def test_malformed_answers_are_upstream_unavailable(body: bytes) -> None:
    with pytest.raises(UpstreamUnavailableError) as caught:
        decode_chat_completion(body)
    assert caught.value.message.startswith("the provider's")


def test_an_error_body_is_upstream_unavailable_with_its_message() -> None:
    body = orjson.dumps({"error": {"message": "model overloaded", "type": "server_error"}})
    with pytest.raises(UpstreamUnavailableError, match="model overloaded"):
        decode_chat_completion(body)


# --- streams ------------------------------------------------------------------------


def test_fixture_stream_decodes_to_the_canonical_grammar() -> None:
    events, complete = _decode(FIXTURE)
    assert events == FIXTURE_EVENTS
    assert complete


@settings(max_examples=200)
@given(st.sets(st.integers(1, len(FIXTURE) - 1), max_size=40))
def test_any_byte_split_decodes_the_same(cuts: set[int]) -> None:
    decoder = ChatStreamDecoder()
    bounds = [0, *sorted(cuts), len(FIXTURE)]
    events = [e for a, b in pairwise(bounds) for e in decoder.feed(FIXTURE[a:b])]
    assert events == FIXTURE_EVENTS
    assert decoder.complete


def test_crlf_framing_decodes_the_same() -> None:
    assert _decode(FIXTURE.replace(b"\n", b"\r\n"))[0] == FIXTURE_EVENTS


def test_stream_without_done_is_not_complete() -> None:
    events, complete = _decode(FIXTURE.removesuffix(DONE))
    assert not complete
    assert events == FIXTURE_EVENTS[:-2]  # no MessageDelta, no MessageStop


def test_stream_without_a_usage_chunk_ends_with_zero_usage() -> None:
    body = START + _chunk({"content": "Hi"}) + _chunk({}, "stop") + DONE
    events, complete = _decode(body)
    assert events[-2:] == [MessageDelta("end_turn", Usage()), MessageStop()]
    assert complete


def test_usage_inside_the_finish_chunk_is_read() -> None:
    finish = orjson.loads(_chunk({}, "length").removeprefix(b"data: "))
    finish["usage"] = {"prompt_tokens": 10, "completion_tokens": 5}
    events, _ = _decode(START + _chunk({"content": "Hi"}) + _frame(finish) + DONE)
    assert events[-2] == MessageDelta("max_tokens", Usage(input_tokens=10, output_tokens=5))


def test_parallel_tool_calls_in_one_chunk_become_blocks_in_order() -> None:
    calls = [
        {"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
        {"index": 1, "id": "b", "type": "function", "function": {"name": "g", "arguments": ""}},
    ]
    body = (
        START
        + _chunk({"tool_calls": calls})
        + _chunk({"tool_calls": [{"index": 1, "function": {"arguments": '{"y":2}'}}]})
    )
    events, _ = _decode(body + _chunk({}, "tool_calls") + DONE)
    assert events[1:-2] == [
        BlockStart(0, ToolCallBlock("a", "f", "")),
        ToolArgumentsDelta(0, "{}"),
        BlockStop(0),
        BlockStart(1, ToolCallBlock("b", "g", "")),
        ToolArgumentsDelta(1, '{"y":2}'),
        BlockStop(1),
    ]


def test_a_fragment_for_a_closed_tool_call_is_a_stream_error() -> None:
    first = {"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": ""}}
    second = {"index": 1, "id": "b", "type": "function", "function": {"name": "g", "arguments": ""}}
    late = {"index": 0, "function": {"arguments": "{}"}}
    decoder = ChatStreamDecoder()
    decoder.feed(START + _chunk({"tool_calls": [first]}) + _chunk({"tool_calls": [second]}))
    with pytest.raises(UpstreamStreamError, match="tool call 0"):
        decoder.feed(_chunk({"tool_calls": [late]}))


def test_tool_calls_without_index_are_told_apart_by_id() -> None:
    calls = [
        {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{"}},
        {"function": {"arguments": "}"}},  # no index, no id: the open call
        {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}},
    ]
    events, _ = _decode(START + _chunk({"tool_calls": calls}) + _chunk({}, "stop") + DONE)
    assert events[1:] == [
        BlockStart(0, ToolCallBlock("a", "f", "")),
        ToolArgumentsDelta(0, "{"),
        ToolArgumentsDelta(0, "}"),
        BlockStop(0),
        BlockStart(1, ToolCallBlock("b", "g", "")),
        ToolArgumentsDelta(1, "{}"),
        BlockStop(1),
        MessageDelta("tool_use", Usage()),  # "stop" after tool calls
        MessageStop(),
    ]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_stream_opens_a_thinking_block_before_the_text(field: str) -> None:
    body = (
        START
        + _chunk({field: "Two plus "})
        + _chunk({field: "two."})
        + _chunk({"content": "4", field: None})
        + _chunk({}, "stop")
        + DONE
    )
    events, _ = _decode(body)
    assert events[1:-2] == [
        BlockStart(0, ThinkingBlock("")),
        ThinkingDelta(0, "Two plus "),
        ThinkingDelta(0, "two."),
        BlockStop(0),
        BlockStart(1, TextBlock("")),
        TextDelta(1, "4"),
        BlockStop(1),
    ]


def test_litellm_style_thinking_blocks_give_text_once_and_the_signature() -> None:
    body = (
        START
        + _chunk(
            {
                "reasoning_content": "Hmm.",
                "thinking_blocks": [{"type": "thinking", "thinking": "Hmm.", "signature": None}],
            }
        )
        + _chunk({"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "s1"}]})
        + _chunk({"thinking_blocks": [{"type": "thinking", "thinking": "More."}]})
        + _chunk({"thinking_blocks": [{"type": "redacted_thinking", "data": "opaque"}]})
        + _chunk({}, "stop")
        + DONE
    )
    events, _ = _decode(body)
    assert events[1:-2] == [
        BlockStart(0, ThinkingBlock("")),
        ThinkingDelta(0, "Hmm."),
        SignatureDelta(0, "s1"),
        BlockStop(0),
        BlockStart(1, ThinkingBlock("")),  # a signature ends a block
        ThinkingDelta(1, "More."),
        BlockStop(1),
        BlockStart(2, RedactedThinkingBlock("opaque")),
        BlockStop(2),
    ]


def test_a_streamed_refusal_is_text_with_stop_reason_refusal() -> None:
    body = START + _chunk({"refusal": "I can't."}) + _chunk({}, "stop") + DONE
    events, _ = _decode(body)
    assert events[1:] == [
        BlockStart(0, TextBlock("")),
        TextDelta(0, "I can't."),
        BlockStop(0),
        MessageDelta("refusal", Usage()),
        MessageStop(),
    ]


def test_nothing_is_decoded_after_done() -> None:
    decoder = ChatStreamDecoder()
    decoder.feed(FIXTURE)
    assert decoder.feed(_chunk({"content": "late"}) + b"data: {broken\n\n") == []


def test_an_error_chunk_raises_with_the_providers_message() -> None:
    error = {"error": {"message": "The server had an error", "type": "server_error"}}
    decoder = ChatStreamDecoder()
    decoder.feed(START)
    with pytest.raises(UpstreamStreamError, match="The server had an error"):
        decoder.feed(_frame(error))


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"data: {not json}\n\n", "not JSON"),
        (b"data: [1]\n\n", "not a JSON object"),
        (START + DONE, "before any finish_reason"),
        (DONE, "before any finish_reason"),
        (_frame({"model": "m", "choices": []}), "id"),
        (START + _chunk({"content": 3}), "choices.0.delta.content"),
        (START + _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}), "id"),
        (START + _chunk({"tool_calls": [{"function": {"arguments": "{}"}}]}), "index"),
        (
            START + _frame({"id": "c", "model": "m", "choices": [{"index": 1, "delta": {}}]}),
            "index",
        ),
        (
            START
            + _frame({"id": "c", "model": "m", "choices": [], "usage": {"prompt_tokens": -1}}),
            "usage",
        ),
    ],
)
def test_malformed_streams_are_stream_errors(body: bytes, match: str) -> None:
    with pytest.raises(UpstreamStreamError, match=match):
        ChatStreamDecoder().feed(body)


# --- error bodies -------------------------------------------------------------------


def _error(message: str, code: str | None = None, param: str | None = None) -> bytes:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return orjson.dumps({"error": error})


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, None, "invalid_request"),
        (400, "context_length_exceeded", "context_length"),
        (401, "invalid_api_key", "authentication"),
        (403, None, "permission"),
        (404, "model_not_found", "not_found"),
        (408, None, "timeout"),
        (409, None, "invalid_request"),
        (413, None, "too_large"),
        (422, None, "invalid_request"),
        (429, "rate_limit_exceeded", "rate_limit"),
        (429, "insufficient_quota", "rate_limit"),
        (500, None, "server"),
        (502, None, "server"),
        (503, None, "overloaded"),
        (504, None, "timeout"),
    ],
)
def test_read_failure_classifies_by_status_and_code(
    status: int, code: str | None, kind: FailureKind
) -> None:
    failure = read_failure(status, _error("went wrong", code, "messages"))
    assert failure == Failure(kind, "went wrong", "messages")


@pytest.mark.parametrize(
    "body", [b"<html>Bad Gateway secret-token</html>", b"", b'{"error": {"type": "x"}}', b"[1]"]
)
def test_read_failure_never_quotes_a_body_that_is_no_error_object(body: bytes) -> None:
    assert read_failure(502, body) == Failure("server", "the provider answered HTTP 502")


def test_read_failure_takes_a_plain_string_error() -> None:
    body = orjson.dumps({"error": "model not loaded"})
    assert read_failure(503, body) == Failure("overloaded", "model not loaded")


# --- round trips through the encoders ----------------------------------------------
#
# The normal form OpenAI carries without loss: thinking first (its text and signature
# travel in thinking_blocks), then at most one non-empty text, then tool calls; no
# stop_sequence; stop_sequence, pause_turn and model_context_window_exceeded are
# not generated (OpenAI has no finish reason for them); end_turn only without tool
# calls; in streams, MessageStart carries zero usage (OpenAI reports usage at the end),
# deltas are non-empty, two text blocks are never adjacent, and a thinking block is
# followed by another only once it is signed.

_TEXT = st.text(min_size=1, max_size=10)
_ID = st.from_regex(r"[a-zA-Z0-9_-]{1,12}", fullmatch=True)
_USAGE = st.builds(
    Usage,
    input_tokens=st.integers(0, 10**6),
    output_tokens=st.integers(0, 10**5),
    cache_read_tokens=st.integers(0, 10**6),
    cache_write_tokens=st.integers(0, 10**5),
    reasoning_tokens=st.integers(0, 10**5),
)
_THINKING = st.one_of(
    st.builds(ThinkingBlock, text=st.text(max_size=10), signature=st.text(max_size=10)),
    st.builds(RedactedThinkingBlock, data=_TEXT),
)
_CALL = st.builds(ToolCallBlock, id=_ID, name=_ID, arguments=st.text(max_size=10))


def _stop_reason(draw: st.DrawFn, has_calls: bool) -> StopReason:
    reasons: list[StopReason] = ["max_tokens", "tool_use", "refusal"]
    return draw(st.sampled_from(reasons if has_calls else ["end_turn", *reasons]))


@st.composite
def carriable_responses(draw: st.DrawFn) -> Response:
    thinking = draw(st.lists(_THINKING, max_size=3))
    text = draw(st.lists(_TEXT.map(TextBlock), max_size=1))
    calls = draw(st.lists(_CALL, max_size=3))
    content: tuple[ContentBlock, ...] = (*thinking, *text, *calls)
    return Response(draw(_ID), draw(_ID), content, _stop_reason(draw, bool(calls)), draw(_USAGE))


@settings(max_examples=300)
@given(carriable_responses())
def test_response_encode_then_decode_is_identity(response: Response) -> None:
    body = orjson.dumps(encode_chat_completion(response, created=0))
    assert decode_chat_completion(body) == response


@st.composite
def carriable_streams(draw: st.DrawFn) -> list[StreamEvent]:
    events: list[StreamEvent] = [MessageStart(draw(_ID), draw(_ID), Usage())]
    previous = ""
    has_calls = False
    for index in range(draw(st.integers(0, 5))):
        kinds = ["tool", "redacted"]
        kinds += [] if previous == "text" else ["text"]
        kinds += [] if previous == "thinking" else ["thinking", "signed"]
        kind = draw(st.sampled_from(kinds))
        events.extend(_block(draw, index, kind))
        previous = kind
        has_calls = has_calls or kind == "tool"
    stop = _stop_reason(draw, has_calls)
    events += [MessageDelta(stop, draw(_USAGE)), MessageStop()]
    return events


def _block(draw: st.DrawFn, index: int, kind: str) -> list[StreamEvent]:
    texts = draw(st.lists(_TEXT, min_size=1, max_size=3))
    start: ContentBlock
    deltas: list[StreamEvent]
    if kind == "text":
        start, deltas = TextBlock(""), [TextDelta(index, t) for t in texts]
    elif kind == "tool":
        start = ToolCallBlock(draw(_ID), draw(_ID), "")
        deltas = [ToolArgumentsDelta(index, t) for t in texts[: draw(st.integers(0, 3))]]
    elif kind == "redacted":
        start, deltas = RedactedThinkingBlock(draw(_TEXT)), []
    else:
        start, deltas = ThinkingBlock(""), [ThinkingDelta(index, t) for t in texts]
        if kind == "signed":
            deltas.append(SignatureDelta(index, draw(_TEXT)))
    return [BlockStart(index, start), *deltas, BlockStop(index)]


@settings(max_examples=300)
@given(carriable_streams(), st.integers(1, 64))
def test_stream_encode_then_decode_is_identity(events: list[StreamEvent], split: int) -> None:
    start = events[0]
    assert isinstance(start, MessageStart)
    encoder = ChatStreamEncoder(start.id, start.model, 0, include_usage=True)
    body = b"".join(frame for event in events for frame in encoder.frames(event))
    decoder = ChatStreamDecoder()
    decoded = [e for i in range(0, len(body), split) for e in decoder.feed(body[i : i + split])]
    assert decoded == events
    assert decoder.complete


def test_stream_without_include_usage_round_trips_with_zero_usage() -> None:
    encoder = ChatStreamEncoder("chatcmpl-123", "gpt-4.1-2025-04-14", 0, include_usage=False)
    body = b"".join(encoder.encode(event) for event in FIXTURE_EVENTS)
    events, complete = _decode(body)
    assert events[:-2] == FIXTURE_EVENTS[:-2]
    assert events[-2] == MessageDelta("tool_use", Usage())
    assert complete
