"""OpenAI encoders: the official SDK parses and assembles what they produce."""

from __future__ import annotations

import httpx2
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from dome.errors import UpstreamStreamError
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
from dome.wire.openai import ChatStreamEncoder, encode_chat_completion, render_failure

CREATED = 1735689600
USAGE = Usage(
    input_tokens=100,
    output_tokens=40,
    cache_read_tokens=1000,
    cache_write_tokens=24,
    reasoning_tokens=7,
)


def _response(*blocks: ContentBlock, stop: StopReason) -> Response:
    return Response("chatcmpl-1", "gpt-test", blocks, stop, USAGE)


def _stream_bytes(events: list[StreamEvent], *, include_usage: bool) -> bytes:
    encoder = ChatStreamEncoder("chatcmpl-1", "gpt-test", CREATED, include_usage=include_usage)
    return b"".join(encoder.encode(event) for event in events)


def _client(body: bytes) -> openai.OpenAI:
    def handler(_request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    return openai.OpenAI(
        api_key="x", base_url="http://mock.test/v1", http_client=http, max_retries=0
    )


def _chunks(body: bytes) -> list[ChatCompletionChunk]:
    with _client(body) as client:
        stream = client.chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        return list(stream)


def _data_lines(body: bytes) -> list[bytes]:
    return [frame.removeprefix(b"data: ") for frame in body.split(b"\n\n") if frame]


TEXT_THEN_TWO_TOOLS: list[StreamEvent] = [
    MessageStart("chatcmpl-1", "gpt-test", Usage(input_tokens=100, cache_read_tokens=1000)),
    BlockStart(0, TextBlock("")),
    TextDelta(0, "Let me "),
    TextDelta(0, "check."),
    BlockStop(0),
    BlockStart(1, ToolCallBlock("call_a", "get_weather", "")),
    ToolArgumentsDelta(1, '{"city":'),
    ToolArgumentsDelta(1, ' "Paris"}'),
    BlockStop(1),
    BlockStart(2, ToolCallBlock("call_b", "get_time", "")),
    ToolArgumentsDelta(2, '{"tz": "CET"}'),
    BlockStop(2),
    MessageDelta("tool_use", Usage(output_tokens=40, reasoning_tokens=7)),
    MessageStop(),
]


def test_text_completion_parses_as_chat_completion() -> None:
    encoded = encode_chat_completion(
        _response(TextBlock("Hello"), stop="end_turn"), created=CREATED
    )
    completion = ChatCompletion.model_validate(encoded)
    assert completion.choices[0].message.content == "Hello"
    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"
    assert completion.created == CREATED


def test_usage_counts_cached_input_inside_prompt_tokens() -> None:
    encoded = encode_chat_completion(_response(TextBlock("x"), stop="end_turn"), created=0)
    usage = ChatCompletion.model_validate(encoded).usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (
        1124,
        40,
        1164,
    )
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 1000
    assert usage.prompt_tokens_details.cache_write_tokens == 24
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 7


def test_tool_calls_only_leave_content_null() -> None:
    calls = (
        ToolCallBlock("call_a", "get_weather", '{"city":"Paris"}'),
        ToolCallBlock("call_b", "get_time", ""),
    )
    encoded = encode_chat_completion(_response(*calls, stop="tool_use"), created=0)
    choice = ChatCompletion.model_validate(encoded).choices[0]
    assert choice.message.content is None
    assert choice.finish_reason == "tool_calls"
    tool_calls = choice.message.tool_calls
    assert tool_calls is not None
    assert [(c.id, c.function.name, c.function.arguments) for c in tool_calls] == [  # type: ignore[union-attr]
        ("call_a", "get_weather", '{"city":"Paris"}'),
        ("call_b", "get_time", ""),
    ]


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
    ],
)
def test_finish_reasons_follow_the_mapping_table(stop: StopReason, finish: str) -> None:
    encoded = encode_chat_completion(_response(TextBlock("x"), stop=stop), created=0)
    assert ChatCompletion.model_validate(encoded).choices[0].finish_reason == finish


def test_stream_of_text_and_two_tool_calls_assembles_with_the_sdk() -> None:
    body = _stream_bytes(TEXT_THEN_TWO_TOOLS, include_usage=False)
    with (
        _client(body) as client,
        client.chat.completions.stream(
            model="gpt-test", messages=[{"role": "user", "content": "hi"}]
        ) as stream,
    ):
        completion = stream.get_final_completion()
    message = completion.choices[0].message
    assert message.role == "assistant"
    assert message.content == "Let me check."
    assert completion.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls is not None
    calls = [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls]
    assert calls == [
        ("call_a", "get_weather", '{"city": "Paris"}'),
        ("call_b", "get_time", '{"tz": "CET"}'),
    ]


def test_tool_call_index_counts_tool_calls_not_blocks() -> None:
    chunks = _chunks(_stream_bytes(TEXT_THEN_TWO_TOOLS, include_usage=False))
    indexes = [
        call.index
        for chunk in chunks
        for choice in chunk.choices
        for call in choice.delta.tool_calls or []
    ]
    assert indexes == [0, 0, 0, 1, 1]  # block indexes were 1 and 2
    headers = [
        call
        for chunk in chunks
        for choice in chunk.choices
        for call in choice.delta.tool_calls or []
        if call.id
    ]
    assert [(h.index, h.id, h.type) for h in headers] == [
        (0, "call_a", "function"),
        (1, "call_b", "function"),
    ]
    assert all(h.function is not None and h.function.arguments == "" for h in headers)


def test_first_chunk_carries_the_role_and_only_the_first() -> None:
    chunks = _chunks(_stream_bytes(TEXT_THEN_TWO_TOOLS, include_usage=False))
    roles = [choice.delta.role for chunk in chunks for choice in chunk.choices]
    assert roles[0] == "assistant"
    assert set(roles[1:]) == {None}
    assert {(c.id, c.model, c.created) for c in chunks} == {("chatcmpl-1", "gpt-test", CREATED)}


def test_usage_chunk_with_include_usage() -> None:
    body = _stream_bytes(TEXT_THEN_TWO_TOOLS, include_usage=True)
    data = _data_lines(body)
    assert data[-1] == b"[DONE]"
    parsed = [orjson.loads(line) for line in data[:-1]]
    assert all("usage" in chunk for chunk in parsed)
    assert all(chunk["usage"] is None for chunk in parsed[:-1])
    assert parsed[-1]["choices"] == []
    assert parsed[-2]["choices"][0]["finish_reason"] == "tool_calls"
    final = ChatCompletionChunk.model_validate(parsed[-1])
    assert final.usage is not None
    # Input and cache counts come from MessageStart, output from MessageDelta.
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (1100, 40)
    assert final.usage.prompt_tokens_details is not None
    assert final.usage.prompt_tokens_details.cached_tokens == 1000
    chunks = _chunks(body)
    assert chunks[-1].usage == final.usage


def test_no_usage_key_without_include_usage() -> None:
    data = _data_lines(_stream_bytes(TEXT_THEN_TWO_TOOLS, include_usage=False))
    assert data[-1] == b"[DONE]"
    assert all("usage" not in orjson.loads(line) for line in data[:-1])
    assert all(orjson.loads(line)["choices"] for line in data[:-1])


def test_events_without_an_openai_counterpart_encode_to_nothing() -> None:
    encoder = ChatStreamEncoder("c", "m", 0, include_usage=False)
    assert encoder.encode(BlockStart(0, TextBlock(""))) == b""
    assert encoder.encode(TextDelta(0, "")) == b""
    assert encoder.encode(BlockStop(0)) == b""


def test_every_frame_is_one_sse_event() -> None:
    encoder = ChatStreamEncoder("c", "m", 0, include_usage=True)
    frames = [frame for event in TEXT_THEN_TWO_TOOLS for frame in encoder.frames(event)]
    assert all(frame.startswith(b"data: ") and frame.count(b"\n\n") == 1 for frame in frames)
    assert frames[-1] == b"data: [DONE]\n\n"


def test_arguments_for_a_block_that_is_no_tool_call_are_a_stream_error() -> None:
    encoder = ChatStreamEncoder("c", "m", 0, include_usage=False)
    encoder.encode(MessageStart("c", "m", Usage()))
    with pytest.raises(UpstreamStreamError):
        encoder.encode(ToolArgumentsDelta(3, "{}"))


# --- thinking -----------------------------------------------------------------------

THINKING_THEN_TOOL: list[StreamEvent] = [
    MessageStart("chatcmpl-1", "gpt-test", Usage(input_tokens=10)),
    BlockStart(0, ThinkingBlock("")),
    ThinkingDelta(0, "The user wants "),
    ThinkingDelta(0, "weather."),
    SignatureDelta(0, "sig-1"),
    BlockStop(0),
    BlockStart(1, RedactedThinkingBlock("opaque")),
    BlockStop(1),
    BlockStart(2, ToolCallBlock("call_a", "get_weather", "")),
    ToolArgumentsDelta(2, '{"city": "Paris"}'),
    BlockStop(2),
    MessageDelta("tool_use", Usage(output_tokens=30, reasoning_tokens=20)),
    MessageStop(),
]


def test_thinking_travels_in_reasoning_content_and_thinking_blocks() -> None:
    response = _response(
        ThinkingBlock("Step one. ", "sig-1"),
        RedactedThinkingBlock("opaque"),
        ThinkingBlock("Step two.", ""),
        TextBlock("Done."),
        stop="end_turn",
    )
    completion = ChatCompletion.model_validate(encode_chat_completion(response, created=0))
    message = completion.choices[0].message
    assert message.content == "Done."
    extra = message.model_extra or {}
    assert extra["reasoning_content"] == "Step one. Step two."
    assert extra["thinking_blocks"] == [
        {"type": "thinking", "thinking": "Step one. ", "signature": "sig-1"},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "thinking", "thinking": "Step two.", "signature": ""},
    ]


def test_answers_without_thinking_have_no_extension_fields() -> None:
    encoded = encode_chat_completion(_response(TextBlock("x"), stop="end_turn"), created=0)
    assert {"reasoning_content", "thinking_blocks"}.isdisjoint(encoded["choices"][0]["message"])


@pytest.mark.parametrize(
    ("stop", "finish"), [("pause_turn", "stop"), ("model_context_window_exceeded", "length")]
)
def test_anthropic_only_stop_reasons_map_too(stop: StopReason, finish: str) -> None:
    encoded = encode_chat_completion(_response(TextBlock("x"), stop=stop), created=0)
    assert ChatCompletion.model_validate(encoded).choices[0].finish_reason == finish


def test_streamed_thinking_chunks_parse_and_index_the_thinking_blocks() -> None:
    data = _data_lines(_stream_bytes(THINKING_THEN_TOOL, include_usage=True))
    chunks = [ChatCompletionChunk.model_validate_json(line) for line in data[:-1]]
    deltas = [(c.choices[0].delta.model_extra or {}) for c in chunks if c.choices]
    assert [d for d in deltas if d] == [
        {
            "reasoning_content": "The user wants ",
            "thinking_blocks": [{"index": 0, "type": "thinking", "thinking": "The user wants "}],
        },
        {
            "reasoning_content": "weather.",
            "thinking_blocks": [{"index": 0, "type": "thinking", "thinking": "weather."}],
        },
        {
            "thinking_blocks": [
                {"index": 0, "type": "thinking", "thinking": "", "signature": "sig-1"}
            ]
        },
        {"thinking_blocks": [{"index": 1, "type": "redacted_thinking", "data": "opaque"}]},
    ]


def test_sdk_stream_helper_assembles_whole_signed_thinking_blocks() -> None:
    body = _stream_bytes(THINKING_THEN_TOOL, include_usage=True)
    with (
        _client(body) as client,
        client.chat.completions.stream(
            model="gpt-test", messages=[{"role": "user", "content": "hi"}]
        ) as stream,
    ):
        completion = stream.get_final_completion()
    message = completion.choices[0].message
    extra = message.model_extra or {}
    assert extra["reasoning_content"] == "The user wants weather."
    assert extra["thinking_blocks"] == [
        {
            "index": 0,
            "type": "thinking",
            "thinking": "The user wants weather.",
            "signature": "sig-1",
        },
        {"index": 1, "type": "redacted_thinking", "data": "opaque"},
    ]
    assert message.tool_calls is not None
    assert [call.id for call in message.tool_calls] == ["call_a"]


def test_thinking_for_a_block_that_is_no_thinking_block_is_a_stream_error() -> None:
    encoder = ChatStreamEncoder("c", "m", 0, include_usage=False)
    encoder.encode(MessageStart("c", "m", Usage()))
    encoder.encode(BlockStart(0, TextBlock("")))
    with pytest.raises(UpstreamStreamError):
        encoder.encode(ThinkingDelta(0, "x"))
    with pytest.raises(UpstreamStreamError):
        encoder.encode(SignatureDelta(0, "s"))


# --- failures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "error_type", "code"),
    [
        ("invalid_request", 400, "invalid_request_error", None),
        ("context_length", 400, "invalid_request_error", "context_length_exceeded"),
        ("too_large", 413, "invalid_request_error", None),
        ("rate_limit", 429, "rate_limit_exceeded", "rate_limit_exceeded"),
        ("overloaded", 503, "server_error", None),
        ("timeout", 504, "server_error", None),
        ("authentication", 502, "server_error", None),
        ("permission", 502, "server_error", None),
        ("not_found", 502, "server_error", None),
        ("server", 500, "server_error", None),
    ],
)
def test_render_failure_follows_the_error_table(
    kind: FailureKind, status: int, error_type: str, code: str | None
) -> None:
    rendered_status, body = render_failure(Failure(kind, "upstream said no", "messages"))
    error = orjson.loads(body)["error"]
    assert rendered_status == status
    assert (error["type"], error["code"]) == (error_type, code)
    # param names the agent's field only when the agent is to blame.
    assert error["param"] == ("messages" if status < 500 else None)


def test_render_failure_never_repeats_what_a_provider_said_about_our_credentials() -> None:
    message = "Incorrect API key provided: sk-proj-****abcd"
    for kind in ("authentication", "permission"):
        _, body = render_failure(Failure(kind, message))
        assert b"sk-proj" not in body
        assert b"broker's credentials" in body


@pytest.mark.parametrize(
    ("kind", "exception"),
    [
        ("context_length", openai.BadRequestError),
        ("rate_limit", openai.RateLimitError),
        ("overloaded", openai.InternalServerError),
        ("authentication", openai.InternalServerError),
    ],
)
def test_the_sdk_raises_the_matching_exception(
    kind: FailureKind, exception: type[openai.APIStatusError]
) -> None:
    status, body = render_failure(Failure(kind, "upstream said no"))

    def handler(_request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, content=body, headers={"content-type": "application/json"})

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    client = openai.OpenAI(
        api_key="x", base_url="http://mock.test/v1", http_client=http, max_retries=0
    )
    with client, pytest.raises(exception) as caught:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == status
