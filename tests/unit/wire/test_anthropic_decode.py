"""Anthropic answers to canonical: messages, streams (any byte split), error answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import anthropic
import httpx2
import orjson
import pytest
from anthropic.types import Message as SdkMessage
from anthropic.types.shared import ErrorResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from dome.errors import UpstreamStreamError, UpstreamUnavailableError
from dome.wire.anthropic import (
    MessageStreamDecoder,
    MessageStreamEncoder,
    decode_message,
    encode_message,
    read_failure,
    render_failure,
)
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

EXAMPLE = (
    Path(__file__).parent / "examples" / "anthropic-messages-stream-thinking-tool.sse"
).read_bytes()

EXAMPLE_EVENTS: list[StreamEvent] = [
    MessageStart(
        "msg_01XYZ",
        "claude-sonnet-4-5-20250929",
        Usage(input_tokens=25, output_tokens=1, cache_read_tokens=1800),
    ),
    BlockStart(0, ThinkingBlock("")),
    ThinkingDelta(0, "User wants weather; call the tool."),
    SignatureDelta(0, "EqQBCkYIAhgC..."),
    BlockStop(0),
    BlockStart(1, TextBlock("")),
    TextDelta(1, "Let me check."),
    BlockStop(1),
    BlockStart(2, ToolCallBlock("toolu_01ABC", "get_weather", "")),
    ToolArgumentsDelta(2, ""),
    ToolArgumentsDelta(2, '{"city": "Pa'),
    ToolArgumentsDelta(2, 'ris"}'),
    BlockStop(2),
    MessageDelta("tool_use", Usage(output_tokens=87)),
    MessageStop(),
]


def _message_body(**fields: object) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "msg_01XYZ",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": "Hello"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 87},
    }
    body.update(fields)
    return body


def _decode_all(stream: bytes, cuts: list[int]) -> tuple[list[StreamEvent], bool]:
    decoder = MessageStreamDecoder()
    events: list[StreamEvent] = []
    start = 0
    for cut in [*sorted(cuts), len(stream)]:
        events.extend(decoder.feed(stream[start:cut]))
        start = max(start, cut)
    return events, decoder.complete


def _sse(name: str, data: object) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


START = _sse(
    "message_start",
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 1},
        },
    },
)
TEXT_START = _sse(
    "content_block_start",
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
)


# decode_message


def test_message_with_every_block_kind() -> None:
    content = [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "Let me check.", "citations": None},
        {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "get_weather",
            "input": {"city": "Paris", "days": 2},
        },
    ]
    usage = {
        "input_tokens": 25,
        "output_tokens": 87,
        "cache_read_input_tokens": 1800,
        "cache_creation_input_tokens": 12,
        "output_tokens_details": {"thinking_tokens": 40},
        "service_tier": "standard",
    }
    body = _message_body(content=content, stop_reason="tool_use", usage=usage)
    assert decode_message(orjson.dumps(body)) == Response(
        id="msg_01XYZ",
        model="claude-sonnet-4-5-20250929",
        content=(
            ThinkingBlock("hmm", "sig"),
            RedactedThinkingBlock("opaque"),
            TextBlock("Let me check."),
            ToolCallBlock("toolu_1", "get_weather", '{"city":"Paris","days":2}'),
        ),
        stop_reason="tool_use",
        usage=Usage(25, 87, cache_read_tokens=1800, cache_write_tokens=12, reasoning_tokens=40),
    )


@pytest.mark.parametrize(
    "stop_reason",
    [
        "end_turn",
        "max_tokens",
        "stop_sequence",
        "tool_use",
        "refusal",
        "pause_turn",
        "model_context_window_exceeded",
    ],
)
def test_every_stop_reason(stop_reason: str) -> None:
    response = decode_message(orjson.dumps(_message_body(stop_reason=stop_reason)))
    assert response.stop_reason == stop_reason


def test_stop_sequence_and_null_cache_counts() -> None:
    usage = {"input_tokens": 1, "output_tokens": 2, "cache_read_input_tokens": None}
    body = _message_body(stop_reason="stop_sequence", stop_sequence="END", usage=usage)
    response = decode_message(orjson.dumps(body))
    assert response.stop_sequence == "END"
    assert response.usage == Usage(input_tokens=1, output_tokens=2)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1]",
        orjson.dumps(_message_body(content="text")),
        orjson.dumps(
            _message_body(
                content=[{"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}]
            )
        ),
        orjson.dumps(
            _message_body(content=[{"type": "tool_use", "id": "t", "name": "n", "input": "x"}])
        ),
        orjson.dumps(_message_body(stop_reason="compaction")),
        orjson.dumps(_message_body(stop_reason=None)),
        orjson.dumps(_message_body(id=None)),
        orjson.dumps(_message_body(usage={"input_tokens": -1, "output_tokens": 0})),
        orjson.dumps(_message_body(usage=None)),
        orjson.dumps(_message_body(stop_sequence=5)),
    ],
)
def test_malformed_messages_are_upstream_errors(body: bytes) -> None:
    with pytest.raises(UpstreamUnavailableError):
        decode_message(body)


# MessageStreamDecoder


def test_example_stream_decodes_to_canonical_events() -> None:
    events, complete = _decode_all(EXAMPLE, [])
    assert events == EXAMPLE_EVENTS
    assert complete


def test_example_stream_one_byte_at_a_time() -> None:
    assert _decode_all(EXAMPLE, list(range(len(EXAMPLE)))) == (EXAMPLE_EVENTS, True)


def test_example_stream_with_crlf_line_ends() -> None:
    assert _decode_all(EXAMPLE.replace(b"\n", b"\r\n"), [100, 101, 102]) == (EXAMPLE_EVENTS, True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, len(EXAMPLE)), max_size=40))
def test_example_stream_decodes_the_same_for_any_split(cuts: list[int]) -> None:
    assert _decode_all(EXAMPLE, cuts) == (EXAMPLE_EVENTS, True)


def test_a_stream_without_message_stop_is_not_complete() -> None:
    cut = EXAMPLE[: EXAMPLE.index(b"event: message_stop")]
    events, complete = _decode_all(cut, [])
    assert events == EXAMPLE_EVENTS[:-1]
    assert not complete


def test_error_event_raises_with_the_providers_type_and_message() -> None:
    decoder = MessageStreamDecoder()
    decoder.feed(START)
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    with pytest.raises(UpstreamStreamError) as caught:
        decoder.feed(_sse("error", error))
    assert "overloaded_error" in caught.value.message
    assert "Overloaded" in caught.value.message
    assert not decoder.complete


def test_error_event_without_details_still_raises() -> None:
    with pytest.raises(UpstreamStreamError, match="unknown_error"):
        MessageStreamDecoder().feed(_sse("error", {"type": "error"}))


@pytest.mark.parametrize(
    "stream",
    [
        b"event: message_start\ndata: {not json\n\n",
        _sse("message_start", {"type": "message_start", "message": {"id": "x"}}),
        START
        + _sse(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "x"},
            },
        ),
        START + TEXT_START + _sse("content_block_stop", {"type": "content_block_stop", "index": 7}),
        START + TEXT_START + _sse("content_block_stop", {"type": "content_block_stop"}),
        START
        + _sse(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {
                    "type": "server_tool_use",
                    "id": "s",
                    "name": "web_search",
                    "input": {},
                },
            },
        ),
        START
        + _sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "nonsense"},
                "usage": {"output_tokens": 1},
            },
        ),
        START
        + _sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
    ],
)
def test_malformed_stream_events_are_stream_errors(stream: bytes) -> None:
    with pytest.raises(UpstreamStreamError, match="malformed"):
        MessageStreamDecoder().feed(stream)


def test_a_delta_of_another_type_than_its_block_is_a_stream_error() -> None:
    delta = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "thinking_delta", "thinking": "x"},
    }
    with pytest.raises(UpstreamStreamError, match="block 0"):
        MessageStreamDecoder().feed(START + TEXT_START + _sse("content_block_delta", delta))


def test_ping_unknown_events_and_citations_are_skipped() -> None:
    citation = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {
            "type": "citations_delta",
            "citation": {"type": "char_location", "cited_text": "x"},
        },
    }
    stream = (
        START
        + b'event: ping\ndata: {"type":"ping"}\n\n'
        + _sse("brand_new_event", {"type": "brand_new_event"})
        + b"event: another_new_event\ndata: not json at all\n\n"
        + b": a comment\n\n"
        + TEXT_START
        + _sse("content_block_delta", citation)
        + _sse(
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "future_delta"}},
        )
    )
    events = MessageStreamDecoder().feed(stream)
    assert events == [
        MessageStart("msg_1", "m", Usage(input_tokens=3, output_tokens=1)),
        BlockStart(0, TextBlock("")),
    ]


def test_message_delta_usage_is_as_reported() -> None:
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "stop_sequence", "stop_sequence": "END"},
        "usage": {
            "input_tokens": 3,
            "output_tokens": 9,
            "output_tokens_details": {"thinking_tokens": 4},
        },
    }
    assert MessageStreamDecoder().feed(START + _sse("message_delta", delta))[-1] == MessageDelta(
        "stop_sequence", Usage(input_tokens=3, output_tokens=9, reasoning_tokens=4), "END"
    )


def test_content_in_a_block_start_follows_as_a_delta() -> None:
    start = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "tool_use", "id": "t", "name": "n", "input": {"a": 1}},
    }
    events = MessageStreamDecoder().feed(START + _sse("content_block_start", start))
    assert events[1:] == [
        BlockStart(0, ToolCallBlock("t", "n", "")),
        ToolArgumentsDelta(0, '{"a":1}'),
    ]


def test_redacted_thinking_arrives_whole_in_its_start() -> None:
    start = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "redacted_thinking", "data": "xyz"},
    }
    events = MessageStreamDecoder().feed(START + _sse("content_block_start", start))
    assert events[1:] == [BlockStart(0, RedactedThinkingBlock("xyz"))]


# Round trips through our own encoders


COUNTS = st.integers(0, 10**7)
USAGES = st.builds(Usage, COUNTS, COUNTS, COUNTS, COUNTS, COUNTS)
IDS = st.from_regex(r"[a-zA-Z0-9_-]{1,12}", fullmatch=True)
JSON_OBJECTS = st.dictionaries(
    st.text(max_size=5),
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    max_size=3,
).map(lambda value: orjson.dumps(value).decode())
BLOCKS: st.SearchStrategy[ContentBlock] = st.one_of(
    st.builds(TextBlock, st.text(min_size=1, max_size=20)),
    st.builds(ToolCallBlock, id=IDS, name=st.text(max_size=10), arguments=JSON_OBJECTS),
    st.builds(ThinkingBlock, text=st.text(max_size=20), signature=st.text(max_size=10)),
    st.builds(RedactedThinkingBlock, st.text(max_size=10)),
)
STOP_REASONS: st.SearchStrategy[StopReason] = st.sampled_from(get_args(StopReason))

# Normal form of a Response: no empty text blocks (encode_message drops them), tool call
# ids in Anthropic's charset, arguments compact JSON objects.
RESPONSES = st.builds(
    Response,
    id=IDS,
    model=st.text(max_size=10),
    content=st.lists(BLOCKS, max_size=4).map(tuple),
    stop_reason=STOP_REASONS,
    usage=USAGES,
    stop_sequence=st.none() | st.text(max_size=5),
)


@settings(max_examples=300, deadline=None)
@given(RESPONSES)
def test_responses_survive_encode_then_decode(response: Response) -> None:
    body = orjson.dumps(encode_message(response))
    SdkMessage.model_validate_json(body)
    assert decode_message(body) == response


def _deltas(index: int, block: ContentBlock, draw: st.DrawFn) -> list[StreamEvent]:
    pieces = st.lists(st.text(max_size=6), max_size=3)
    match block:
        case TextBlock():
            return [TextDelta(index, text) for text in draw(pieces)]
        case ToolCallBlock():
            return [ToolArgumentsDelta(index, text) for text in draw(pieces)]
        case ThinkingBlock():
            signature = draw(st.lists(st.text(min_size=1, max_size=6), max_size=1))
            thinking = [ThinkingDelta(index, text) for text in draw(pieces)]
            return [*thinking, *(SignatureDelta(index, s) for s in signature)]
        case RedactedThinkingBlock():
            return []


@st.composite
def _streams(draw: st.DrawFn) -> list[StreamEvent]:
    """Normal form: MessageStart reports >= 1 output token (as the API does, and as the
    encoder ensures); MessageDelta repeats the start's input and cache counts (the
    encoder fills them in from the start); blocks start empty, redacted ones whole."""
    start_usage = draw(USAGES.filter(lambda usage: usage.output_tokens >= 1))
    events: list[StreamEvent] = [MessageStart(draw(IDS), draw(st.text(max_size=10)), start_usage)]
    empties = st.one_of(
        st.just(TextBlock("")),
        st.builds(ToolCallBlock, id=IDS, name=st.text(max_size=10), arguments=st.just("")),
        st.just(ThinkingBlock("")),
        st.builds(RedactedThinkingBlock, st.text(max_size=10)),
    )
    for index, block in enumerate(draw(st.lists(empties, max_size=4))):
        events += [BlockStart(index, block), *_deltas(index, block, draw), BlockStop(index)]
    final = Usage(
        input_tokens=start_usage.input_tokens,
        output_tokens=draw(COUNTS),
        cache_read_tokens=start_usage.cache_read_tokens,
        cache_write_tokens=start_usage.cache_write_tokens,
        reasoning_tokens=draw(COUNTS),
    )
    stop_sequence = draw(st.none() | st.text(max_size=5))
    return [*events, MessageDelta(draw(STOP_REASONS), final, stop_sequence), MessageStop()]


@settings(max_examples=300, deadline=None)
@given(_streams(), st.lists(st.integers(0, 5000), max_size=10))
def test_streams_survive_encode_then_decode_in_any_split(
    events: list[StreamEvent], cuts: list[int]
) -> None:
    encoder = MessageStreamEncoder()
    stream = b"".join(frame for event in events for frame in encoder.frames(event))
    assert _decode_all(stream, [cut for cut in cuts if cut <= len(stream)]) == (events, True)


# Error answers


def _error(error_type: str, message: str = "details") -> bytes:
    return orjson.dumps(
        {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_1"}
    )


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (400, _error("invalid_request_error"), "invalid_request"),
        (
            400,
            _error("invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum"),
            "context_length",
        ),
        (
            400,
            _error(
                "invalid_request_error",
                "input length and `max_tokens` exceed context limit: 1 + 2 > 2",
            ),
            "context_length",
        ),
        (401, _error("authentication_error"), "authentication"),
        (403, _error("permission_error"), "permission"),
        (402, _error("billing_error"), "permission"),
        (404, _error("not_found_error"), "not_found"),
        (413, _error("request_too_large"), "too_large"),
        (429, _error("rate_limit_error"), "rate_limit"),
        (529, _error("overloaded_error"), "overloaded"),
        (500, _error("api_error"), "server"),
        (504, _error("timeout_error"), "timeout"),
        (500, _error("overloaded_error"), "overloaded"),  # the type wins over the status
        (529, b"<html>busy</html>", "overloaded"),
        (503, b"", "overloaded"),
        (504, b"gateway timeout", "timeout"),
        (502, b"bad gateway", "server"),
        (429, b"{}", "rate_limit"),
        (418, b"teapot", "invalid_request"),
        (400, _error("brand_new_error"), "invalid_request"),
    ],
)
def test_read_failure_kind(status: int, body: bytes, kind: FailureKind) -> None:
    assert read_failure(status, body).kind == kind


def test_read_failure_keeps_the_providers_message() -> None:
    assert read_failure(429, _error("rate_limit_error", "slow down")) == Failure(
        "rate_limit", "slow down"
    )


@pytest.mark.parametrize(
    "body", [b"<html>secret internals</html>", b'{"error": "flat"}', b'"text"']
)
def test_read_failure_never_echoes_a_body_that_is_no_error_json(body: bytes) -> None:
    failure = read_failure(502, body)
    assert failure.message == "the provider answered HTTP 502"


@pytest.mark.parametrize(
    ("kind", "status", "error_type", "sdk_error"),
    [
        ("invalid_request", 400, "invalid_request_error", anthropic.BadRequestError),
        ("context_length", 400, "invalid_request_error", anthropic.BadRequestError),
        ("authentication", 502, "api_error", anthropic.InternalServerError),
        ("permission", 502, "api_error", anthropic.InternalServerError),
        ("not_found", 502, "api_error", anthropic.InternalServerError),
        ("too_large", 413, "request_too_large", anthropic.ContentTooLargeError),
        ("rate_limit", 429, "rate_limit_error", anthropic.RateLimitError),
        ("overloaded", 529, "overloaded_error", anthropic.OverloadedError),
        ("timeout", 504, "timeout_error", anthropic.GatewayTimeoutError),
        ("server", 500, "api_error", anthropic.InternalServerError),
    ],
)
def test_render_failure_for_anthropic_clients(
    kind: FailureKind, status: int, error_type: str, sdk_error: type[anthropic.APIStatusError]
) -> None:
    rendered_status, body = render_failure(Failure(kind, "it broke"))
    assert rendered_status == status
    # Anthropic's documented 413 type is request_too_large; SDK 2.x types lack it.
    parsed = orjson.loads(body)
    assert parsed["type"] == "error"
    assert parsed["error"]["type"] == error_type
    assert "it broke" in parsed["error"]["message"]
    if error_type != "request_too_large":
        ErrorResponse.model_validate_json(body)

    def handler(_request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, content=body, headers={"content-type": "application/json"})

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    client = anthropic.Anthropic(
        api_key="x", base_url="http://mock.test", http_client=http, max_retries=0
    )
    with client, pytest.raises(sdk_error) as caught:
        client.messages.create(
            model="m", max_tokens=1, messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.status_code == status


def test_provider_credential_failures_do_not_blame_the_client() -> None:
    _status, body = render_failure(Failure("authentication", "invalid x-api-key"))
    assert b"the provider refused the broker's credentials" in body


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "invalid_request_error"),
        (413, "request_too_large"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
    ],
)
def test_read_then_render_gives_back_the_same_anthropic_error(status: int, error_type: str) -> None:
    rendered_status, body = render_failure(read_failure(status, _error(error_type, "m")))
    assert rendered_status == status
    assert orjson.loads(body)["error"] == {"type": error_type, "message": "m"}


def test_a_provider_not_knowing_its_model_is_the_brokers_502() -> None:
    # The agent's model name was checked by the broker; the mapping is at fault.
    rendered_status, body = render_failure(read_failure(404, _error("not_found_error", "m")))
    assert rendered_status == 502
    assert orjson.loads(body)["error"]["type"] == "api_error"
