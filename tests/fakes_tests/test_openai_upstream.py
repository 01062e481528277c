"""The fake OpenAI upstream, checked through the official `openai` SDK's parsing."""

import json
import threading
import time

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from tests.fakes.answers import embedding_vector, estimate_tokens
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.payload import count_text_chars

HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
    "required": ["city", "unit"],
}
GATE_HOLD = 0.3
WEATHER_ARGS = {"city": "example", "unit": "c"}
TOOLS = [
    {
        "type": "function",
        "function": {"name": "get_weather", "parameters": WEATHER_SCHEMA},
    },
    {
        "type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object"}},
    },
]


def _stream(
    client: openai.OpenAI, model: str, **extra: object
) -> list[ChatCompletionChunk]:
    with client.chat.completions.create(
        model=model,
        messages=HELLO,
        stream=True,
        **extra,  # type: ignore[call-overload]
    ) as stream:
        return list(stream)


def _raw_stream_lines(
    http: httpx.Client, fake: FakeOpenAI, body: dict[str, object]
) -> list[str]:
    headers = {"authorization": f"Bearer {fake.api_key}"}
    response = http.post(f"{fake.url}/v1/chat/completions", json=body, headers=headers)
    return [line for line in response.text.split("\n") if line]


def test_text_answer_echoes_the_last_user_message(openai_client: openai.OpenAI) -> None:
    completion = openai_client.chat.completions.create(model="gpt-ok", messages=HELLO)

    choice = completion.choices[0]
    assert choice.message.content == "echo: hello"
    assert choice.finish_reason == "stop"
    assert completion.model == "gpt-ok"
    assert completion.object == "chat.completion"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == estimate_tokens(count_text_chars(HELLO))
    assert completion.usage.completion_tokens == estimate_tokens(len("echo: hello"))
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )


def test_requests_are_recorded_exactly(
    fake_openai: FakeOpenAI, openai_client: openai.OpenAI
) -> None:
    openai_client.chat.completions.create(
        model="ok", messages=HELLO, extra_headers={"X-Trace": "abc"}
    )

    [request] = fake_openai.requests
    assert (request.method, request.path, request.query) == (
        "POST",
        "/v1/chat/completions",
        "",
    )
    assert request.headers["authorization"] == f"Bearer {fake_openai.api_key}"
    assert request.headers["x-trace"] == "abc"
    assert all(name == name.lower() for name in request.headers)
    assert (
        request.body == b'{"model":"ok","messages":[{"role":"user","content":"hello"}]}'
    )
    assert request.json() == {"messages": HELLO, "model": "ok"}


def test_tools_get_one_call_built_from_required_properties(
    openai_client: openai.OpenAI,
) -> None:
    completion = openai_client.chat.completions.create(
        model="ok",
        messages=HELLO,
        tools=TOOLS,  # type: ignore[arg-type]
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == WEATHER_ARGS


def test_parallel_model_calls_the_first_two_tools(openai_client: openai.OpenAI) -> None:
    completion = openai_client.chat.completions.create(
        model="gpt-parallel",
        messages=HELLO,
        tools=TOOLS,  # type: ignore[arg-type]
    )

    calls = completion.choices[0].message.tool_calls or []
    assert [call.function.name for call in calls if call.type == "function"] == [
        "get_weather",
        "get_time",
    ]
    assert len({call.id for call in calls}) == 2


def test_tool_result_turn_gets_a_text_answer(openai_client: openai.OpenAI) -> None:
    first = openai_client.chat.completions.create(
        model="ok",
        messages=HELLO,
        tools=TOOLS,  # type: ignore[arg-type]
    )
    [call] = first.choices[0].message.tool_calls or []
    messages: list[ChatCompletionMessageParam] = [
        *HELLO,
        first.choices[0].message.model_dump(exclude_none=True),  # type: ignore[list-item]
        {"role": "tool", "tool_call_id": call.id, "content": "18C, clear"},
    ]

    second = openai_client.chat.completions.create(
        model="ok",
        messages=messages,
        tools=TOOLS,  # type: ignore[arg-type]
    )

    assert second.choices[0].message.content == "echo: 18C, clear"
    assert second.choices[0].finish_reason == "stop"


def test_stream_with_usage_puts_usage_on_the_last_chunk_only(
    openai_client: openai.OpenAI,
) -> None:
    chunks = _stream(openai_client, "ok", stream_options={"include_usage": True})

    *body, last = chunks
    assert body[0].choices[0].delta.role == "assistant"
    pieces = [
        c.choices[0].delta.content for c in body[1:] if c.choices[0].delta.content
    ]
    assert len(pieces) > 1
    assert "".join(pieces) == "echo: hello"
    assert body[-1].choices[0].finish_reason == "stop"
    assert all(chunk.usage is None for chunk in body)
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.completion_tokens == estimate_tokens(len("echo: hello"))
    assert {chunk.id for chunk in chunks} == {chunks[0].id}
    assert {chunk.model for chunk in chunks} == {"ok"}


def test_raw_stream_frames_follow_the_wire_rules(
    fake_openai: FakeOpenAI, http: httpx.Client
) -> None:
    fake_openai.reset()
    body = {"model": "ok", "messages": HELLO, "stream": True}

    lines = _raw_stream_lines(http, fake_openai, body)

    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert all("usage" not in chunk for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"] == {
        "role": "assistant",
        "content": "",
        "refusal": None,
    }


def test_streamed_tool_calls_assemble_by_index(openai_client: openai.OpenAI) -> None:
    chunks = _stream(openai_client, "gpt-parallel", tools=TOOLS)

    fragments: dict[int, list[str]] = {}
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or []:
            assert delta.function is not None
            fragments.setdefault(delta.index, []).append(delta.function.arguments or "")
    assert sorted(fragments) == [0, 1]
    assert len(fragments[0]) > 2
    assert json.loads("".join(fragments[0])) == WEATHER_ARGS
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_stream_helper_builds_the_final_completion(
    openai_client: openai.OpenAI,
) -> None:
    with openai_client.chat.completions.stream(
        model="ok",
        messages=HELLO,
        tools=TOOLS,  # type: ignore[arg-type]
    ) as stream:
        completion = stream.get_final_completion()

    [call] = completion.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == WEATHER_ARGS


def test_embeddings_default_to_base64_and_decode(
    fake_openai: FakeOpenAI, openai_client: openai.OpenAI
) -> None:
    result = openai_client.embeddings.create(model="emb", input=["a", "b"])

    assert fake_openai.last_request.json()["encoding_format"] == "base64"
    assert [item.embedding for item in result.data] == [
        embedding_vector("a", 8),
        embedding_vector("b", 8),
    ]
    assert result.usage.prompt_tokens == 2


def test_embeddings_honour_float_format_and_dimensions(
    openai_client: openai.OpenAI,
) -> None:
    result = openai_client.embeddings.create(
        model="emb", input="hello", encoding_format="float", dimensions=40
    )

    assert result.data[0].embedding == embedding_vector("hello", 40)


def test_models_list_names_every_behaviour(openai_client: openai.OpenAI) -> None:
    ids = [model.id for model in openai_client.models.list()]

    assert {"ok", "slow", "error-429", "stream-cut", "bad-json", "ok-parallel"} <= set(
        ids
    )


@pytest.mark.parametrize(
    ("model", "error_class", "status", "error_type"),
    [
        ("error-400", openai.BadRequestError, 400, "invalid_request_error"),
        ("error-429", openai.RateLimitError, 429, "requests"),
        ("error-500", openai.InternalServerError, 500, "server_error"),
        ("error-529", openai.InternalServerError, 503, "server_error"),
    ],
)
def test_error_models_raise_the_sdk_error(
    openai_client: openai.OpenAI,
    model: str,
    error_class: type[openai.APIStatusError],
    status: int,
    error_type: str,
) -> None:
    with pytest.raises(error_class) as caught:
        openai_client.chat.completions.create(model=model, messages=HELLO)

    assert caught.value.status_code == status
    assert isinstance(caught.value.body, dict)
    assert set(caught.value.body) == {"message", "type", "param", "code"}
    assert caught.value.body["type"] == error_type


def test_rate_limit_sends_retry_after(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.embeddings.create(model="error-429", input="x")

    assert caught.value.response.headers["retry-after"] == "1"


def test_error_400_names_a_param(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(model="error-400", messages=HELLO)

    assert caught.value.param == "messages"


def test_wrong_key_is_401_in_openai_format(fake_openai: FakeOpenAI) -> None:
    with (
        openai.OpenAI(
            base_url=fake_openai.url + "/v1", api_key="wrong", max_retries=0
        ) as client,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        client.models.list()

    assert caught.value.body == {
        "message": "Incorrect API key provided.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }


def test_malformed_json_is_400_in_openai_format(
    fake_openai: FakeOpenAI, http: httpx.Client
) -> None:
    response = http.post(
        f"{fake_openai.url}/v1/chat/completions",
        content=b"{not json",
        headers={"authorization": f"Bearer {fake_openai.api_key}"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_stream_cut_breaks_sdk_iteration_midway(openai_client: openai.OpenAI) -> None:
    received: list[ChatCompletionChunk] = []
    with (
        pytest.raises(openai.APIConnectionError),
        openai_client.chat.completions.create(
            model="stream-cut", messages=HELLO, stream=True
        ) as stream,
    ):
        received.extend(stream)

    assert received
    assert all(chunk.choices[0].finish_reason is None for chunk in received)


def test_stream_cut_without_streaming_is_a_connection_error(
    openai_client: openai.OpenAI,
) -> None:
    with pytest.raises(openai.APIConnectionError):
        openai_client.chat.completions.create(model="stream-cut", messages=HELLO)


def test_truncated_clean_stream_ends_quietly_without_finish(
    openai_client: openai.OpenAI,
) -> None:
    chunks = _stream(openai_client, "stream-truncated-clean")

    assert chunks
    assert all(chunk.choices[0].finish_reason is None for chunk in chunks)


def test_truncated_clean_without_streaming_is_broken_json(
    openai_client: openai.OpenAI,
) -> None:
    with pytest.raises(json.JSONDecodeError):
        openai_client.chat.completions.create(
            model="stream-truncated-clean", messages=HELLO
        )


def test_bad_json_fails_sdk_decoding(openai_client: openai.OpenAI) -> None:
    with pytest.raises(json.JSONDecodeError):
        openai_client.chat.completions.create(model="bad-json", messages=HELLO)


def test_bad_json_stream_fails_sdk_decoding(openai_client: openai.OpenAI) -> None:
    with pytest.raises(json.JSONDecodeError):
        _stream(openai_client, "bad-json")


def test_slow_model_spaces_stream_events(openai_client: openai.OpenAI) -> None:
    started = time.monotonic()
    chunks = _stream(openai_client, "slow")
    elapsed = time.monotonic() - started

    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "echo: hello"
    assert elapsed >= 0.05 * (len(chunks) - 1)


def test_slow_model_delays_plain_answers(openai_client: openai.OpenAI) -> None:
    started = time.monotonic()
    openai_client.chat.completions.create(model="slow", messages=HELLO)

    assert time.monotonic() - started >= 0.2


def test_gate_holds_the_stream_after_its_first_event(
    fake_openai: FakeOpenAI, openai_client: openai.OpenAI
) -> None:
    with (
        fake_openai.stream_gate.hold() as gate,
        openai_client.chat.completions.create(
            model="ok", messages=HELLO, stream=True
        ) as stream,
    ):
        chunks = iter(stream)
        first = next(chunks)
        assert gate.wait_held()
        release = threading.Timer(GATE_HOLD, gate.release)
        started = time.monotonic()
        release.start()
        rest = list(chunks)
        waited = time.monotonic() - started
    release.join()

    assert first.choices[0].delta.role == "assistant"
    assert waited >= GATE_HOLD
    assert rest[-1].choices[0].finish_reason == "stop"
