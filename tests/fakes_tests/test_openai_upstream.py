"""The fake OpenAI upstream, checked through the official `openai` SDK's parsing."""

import json

import httpx
import openai
from openai.types.chat import ChatCompletionMessageParam

from tests.fakes.answers import embedding_vector, estimate_tokens
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.payload import count_text_chars
from tests.fakes_tests.sdk_calls import OPENAI_HELLO as HELLO
from tests.fakes_tests.sdk_calls import openai_stream

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
    "required": ["city", "unit"],
}
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


def _raw_stream_lines(http: httpx.Client, fake: FakeOpenAI, body: dict[str, object]) -> list[str]:
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
    assert request.body == b'{"model":"ok","messages":[{"role":"user","content":"hello"}]}'
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
    chunks = openai_stream(openai_client, "ok", stream_options={"include_usage": True})

    *body, last = chunks
    assert body[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in body[1:] if c.choices[0].delta.content]
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
    chunks = openai_stream(openai_client, "gpt-parallel", tools=TOOLS)

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

    assert {"ok", "slow", "error-429", "stream-cut", "bad-json", "ok-parallel"} <= set(ids)
