"""The fake Anthropic upstream, checked through the official anthropic SDK's parsing."""

import json

import anthropic
import httpx
from anthropic.types import MessageParam, ToolParam

from tests.fakes.answers import estimate_tokens
from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.payload import count_text_chars
from tests.fakes_tests.sdk_calls import ANTHROPIC_HELLO as HELLO
from tests.fakes_tests.sdk_calls import ANTHROPIC_VERSION as VERSION
from tests.fakes_tests.sdk_calls import anthropic_create

WEATHER_ARGS = {"city": "example", "days": 1, "detail": {"metric": True}}
TOOLS: list[ToolParam] = [
    {
        "name": "get_weather",
        "input_schema": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer"},
                "detail": {
                    "type": "object",
                    "properties": {"metric": {"type": "boolean"}},
                    "required": ["metric"],
                },
                "note": {"type": "string"},
            },
            "required": ["city", "days", "detail"],
        },
    },
    {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
]


def _raw_events(http: httpx.Client, fake: FakeAnthropic, body: dict[str, object]) -> list[str]:
    headers = {"x-api-key": fake.api_key, "anthropic-version": VERSION}
    response = http.post(f"{fake.url}/v1/messages", json=body, headers=headers)
    return [line for line in response.text.split("\n") if line.startswith("event: ")]


def test_text_answer_echoes_the_last_user_message(
    anthropic_client: anthropic.Anthropic,
) -> None:
    message = anthropic_create(anthropic_client, "claude-ok")

    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].type == "text"
    assert message.content[0].text == "echo: hello"
    assert message.stop_reason == "end_turn"
    assert message.model == "claude-ok"
    assert message.usage.input_tokens == estimate_tokens(count_text_chars(HELLO))
    assert message.usage.output_tokens == estimate_tokens(len("echo: hello"))


def test_requests_are_recorded_exactly(
    fake_anthropic: FakeAnthropic, anthropic_client: anthropic.Anthropic
) -> None:
    response = anthropic_client.messages.with_raw_response.create(
        model="ok", max_tokens=5, messages=HELLO
    )

    [request] = fake_anthropic.requests
    assert (request.method, request.path, request.query) == ("POST", "/v1/messages", "")
    # anthropic 2.x sends `api_key` as a bearer token, not as x-api-key.
    assert request.headers["authorization"] == f"Bearer {fake_anthropic.api_key}"
    assert "x-api-key" not in request.headers
    assert request.headers["anthropic-version"]  # 2.14 sends 2026-10-21; any is fine
    assert request.json() == {"max_tokens": 5, "messages": HELLO, "model": "ok"}
    assert response.headers["request-id"].startswith("req_")


def test_beta_sdk_calls_reach_the_messages_route(
    fake_anthropic: FakeAnthropic, anthropic_client: anthropic.Anthropic
) -> None:
    message = anthropic_client.beta.messages.create(
        model="ok",
        max_tokens=5,
        messages=[{"role": "user", "content": "hello"}],
        betas=["feature-2025-01-01"],
    )

    assert message.content[0].type == "text"
    assert fake_anthropic.last_request.path == "/v1/messages"
    assert fake_anthropic.last_request.headers["anthropic-beta"] == "feature-2025-01-01"


def test_x_api_key_and_beta_query_are_accepted(
    fake_anthropic: FakeAnthropic, http: httpx.Client
) -> None:
    fake_anthropic.reset()
    headers = {"x-api-key": fake_anthropic.api_key, "anthropic-version": VERSION}
    body = {"model": "ok", "max_tokens": 5, "messages": HELLO}

    response = http.post(f"{fake_anthropic.url}/v1/messages?beta=true", json=body, headers=headers)

    assert response.status_code == 200
    assert response.json()["content"] == [{"type": "text", "text": "echo: hello"}]
    assert fake_anthropic.last_request.query == "beta=true"


def test_tools_get_one_call_built_from_required_properties(
    anthropic_client: anthropic.Anthropic,
) -> None:
    message = anthropic_create(anthropic_client, "ok", tools=TOOLS)

    assert message.stop_reason == "tool_use"
    [block] = message.content
    assert block.type == "tool_use"
    assert block.name == "get_weather"
    assert block.input == WEATHER_ARGS


def test_parallel_model_calls_the_first_two_tools(
    anthropic_client: anthropic.Anthropic,
) -> None:
    message = anthropic_create(anthropic_client, "claude-parallel", tools=TOOLS)

    blocks = [block for block in message.content if block.type == "tool_use"]
    assert [(block.name, block.input) for block in blocks] == [
        ("get_weather", WEATHER_ARGS),
        ("get_time", {}),
    ]


def test_tool_result_turn_gets_a_text_answer(
    anthropic_client: anthropic.Anthropic,
) -> None:
    first = anthropic_create(anthropic_client, "ok", tools=TOOLS)
    [tool_use] = first.content
    assert tool_use.type == "tool_use"
    messages: list[MessageParam] = [
        *HELLO,
        {"role": "assistant", "content": first.content},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": tool_use.id,
                    "content": "18C, clear",
                }
            ],
        },
    ]

    second = anthropic_client.messages.create(
        model="ok", max_tokens=64, messages=messages, tools=TOOLS
    )

    assert second.content[0].type == "text"
    assert second.content[0].text == "echo: 18C, clear"


def test_stream_text_arrives_in_several_deltas(
    anthropic_client: anthropic.Anthropic,
) -> None:
    with anthropic_client.messages.stream(model="ok", max_tokens=64, messages=HELLO) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert len(pieces) > 1
    assert "".join(pieces) == "echo: hello"
    assert final.usage.output_tokens == estimate_tokens(len("echo: hello"))
    assert final.usage.input_tokens == estimate_tokens(count_text_chars(HELLO))


def test_stream_final_message_assembles_tool_input(
    anthropic_client: anthropic.Anthropic,
) -> None:
    with anthropic_client.messages.stream(
        model="claude-parallel", max_tokens=64, messages=HELLO, tools=TOOLS
    ) as stream:
        final = stream.get_final_message()

    assert final.stop_reason == "tool_use"
    assert [block.type for block in final.content] == ["tool_use", "tool_use"]
    assert final.content[0].type == "tool_use"
    assert final.content[0].input == WEATHER_ARGS


def test_raw_stream_has_every_event_in_order(
    fake_anthropic: FakeAnthropic, http: httpx.Client
) -> None:
    body = {
        "model": "ok",
        "max_tokens": 5,
        "messages": HELLO,
        "tools": TOOLS,
        "stream": True,
    }

    events = _raw_events(http, fake_anthropic, body)

    names = [line.removeprefix("event: ") for line in events]
    deltas = names.count("content_block_delta")
    assert deltas > 1
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * deltas,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]


def test_raw_stream_message_start_reports_input_tokens(
    fake_anthropic: FakeAnthropic, http: httpx.Client
) -> None:
    headers = {"x-api-key": fake_anthropic.api_key, "anthropic-version": VERSION}
    body = {"model": "ok", "max_tokens": 5, "messages": HELLO, "stream": True}
    response = http.post(f"{fake_anthropic.url}/v1/messages", json=body, headers=headers)

    first_data = response.text.split("\n")[1].removeprefix("data: ")
    assert json.loads(first_data)["message"]["usage"]["input_tokens"] > 0
    assert response.headers["content-type"].startswith("text/event-stream")


def test_count_tokens_matches_message_usage(
    anthropic_client: anthropic.Anthropic,
) -> None:
    counted = anthropic_client.messages.count_tokens(model="ok", messages=HELLO, tools=TOOLS)
    message = anthropic_create(anthropic_client, "ok", tools=TOOLS)

    assert counted.input_tokens == message.usage.input_tokens


def test_models_list_names_every_behaviour(
    anthropic_client: anthropic.Anthropic,
) -> None:
    ids = [model.id for model in anthropic_client.models.list()]

    assert {"ok", "slow", "error-529", "stream-truncated-clean", "ok-parallel"} <= set(ids)
