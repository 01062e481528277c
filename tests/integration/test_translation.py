"""Cross-format calls through the official SDKs: what went upstream, errors, edge cases.

The broad feature matrix is test_conformance.py; these pin the details a translating
gateway gets wrong (WIRE-FORMATS section 7).
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import openai
import pytest
from openai.types.chat import ChatCompletion

from tests.integration.conftest import Wired
from tests.integration.test_audit import audit_record

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
OPENAI_TOOLS: Any = [
    {"type": "function", "function": {"name": "get_weather", "parameters": SCHEMA}},
    {"type": "function", "function": {"name": "get_time", "parameters": SCHEMA}},
]
ANTHROPIC_TOOLS: Any = [
    {"name": "get_weather", "input_schema": SCHEMA},
    {"name": "get_time", "input_schema": SCHEMA},
]


def openai_client(wired: Wired) -> openai.OpenAI:
    return openai.OpenAI(base_url=wired.broker.url + "/v1", api_key=wired.token, max_retries=0)


def anthropic_client(wired: Wired) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=wired.broker.url, api_key=wired.token, max_retries=0)


def test_openai_agent_to_anthropic_sends_a_valid_messages_body(wired: Wired) -> None:
    with openai_client(wired) as client:
        answer = client.chat.completions.create(
            model="anthropic-prod",
            messages=[
                {"role": "developer", "content": "Be terse."},
                {"role": "user", "content": "hello"},
            ],
            stop=["END"],
            temperature=0.5,
            user="end-user-7",
        )
    assert answer.choices[0].message.content == "echo: hello"
    assert answer.object == "chat.completion"
    assert answer.id.startswith("chatcmpl-")
    sent = wired.anthropic.last_request
    body = sent.json()
    assert sent.path == "/v1/messages"
    assert body["model"] == "claude-sonnet-4-6"
    assert body["system"] == [{"type": "text", "text": "Be terse."}]
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]
    assert body["max_tokens"] > 0  # required by Anthropic, defaulted per model
    assert body["stop_sequences"] == ["END"]
    assert body["metadata"] == {"user_id": "end-user-7"}
    assert sent.headers["x-api-key"] == wired.anthropic.api_key
    assert sent.headers["anthropic-version"]
    assert wired.token not in json.dumps(dict(sent.headers))


def test_anthropic_agent_to_openai_asks_for_stream_usage(wired: Wired) -> None:
    with anthropic_client(wired) as client:
        with client.messages.stream(
            model="gpt-prod",
            max_tokens=300,
            system="Be terse.",
            messages=[{"role": "user", "content": "stream please"}],
        ) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
    assert text == "echo: stream please"
    assert final.id.startswith("msg_")
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0
    assert final.usage.input_tokens > 0  # carried from the OpenAI usage chunk
    body = wired.openai.last_request.json()
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 300
    assert body["messages"][0] == {"role": "system", "content": "Be terse."}


@pytest.mark.parametrize("stream", [False, True])
def test_parallel_tool_calls_reach_an_anthropic_agent_from_openai(
    wired: Wired, stream: bool
) -> None:
    with anthropic_client(wired) as client:
        kwargs: Any = {
            "model": "openai-parallel",
            "max_tokens": 300,
            "tools": ANTHROPIC_TOOLS,
            "messages": [{"role": "user", "content": "weather and time in Paris?"}],
        }
        if stream:
            with client.messages.stream(**kwargs) as events:
                message = events.get_final_message()
        else:
            message = client.messages.create(**kwargs)
    uses = [block for block in message.content if block.type == "tool_use"]
    assert [use.name for use in uses] == ["get_weather", "get_time"]
    assert all(use.input == {"city": "example"} for use in uses)
    assert len({use.id for use in uses}) == 2
    assert message.stop_reason == "tool_use"


@pytest.mark.parametrize("stream", [False, True])
def test_parallel_tool_calls_reach_an_openai_agent_from_anthropic(
    wired: Wired, stream: bool
) -> None:
    with openai_client(wired) as client:
        kwargs: Any = {
            "model": "anthropic-parallel",
            "tools": OPENAI_TOOLS,
            "messages": [{"role": "user", "content": "weather and time in Paris?"}],
        }
        completion: ChatCompletion
        if stream:
            with client.chat.completions.stream(**kwargs) as events:
                completion = events.get_final_completion()
        else:
            completion = client.chat.completions.create(**kwargs)
    choice = completion.choices[0]
    calls = choice.message.tool_calls or []
    assert choice.finish_reason == "tool_calls"
    assert [call.function.name for call in calls if call.type == "function"] == [
        "get_weather",
        "get_time",
    ]
    assert all(
        json.loads(call.function.arguments) == {"city": "example"}
        for call in calls
        if call.type == "function"
    )


def test_foreign_tool_ids_are_made_acceptable_to_anthropic(wired: Wired) -> None:
    # Ids minted by other providers ("functions.get_weather:0") break Anthropic's
    # charset; the same id must map the same way in the call and in its result.
    odd_id = "functions.get_weather:0"
    with openai_client(wired) as client:
        answer = client.chat.completions.create(
            model="anthropic-prod",
            tools=OPENAI_TOOLS[:1],
            messages=[
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": odd_id,
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": ""},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": odd_id, "content": "rainy"},
            ],
        )
    assert answer.choices[0].finish_reason == "stop"
    assert "rainy" in (answer.choices[0].message.content or "")
    messages = wired.anthropic.last_request.json()["messages"]
    use = messages[1]["content"][0]
    result = messages[2]["content"][0]
    assert use["type"] == "tool_use"
    assert use["input"] == {}  # empty arguments become an empty object (pitfall 6)
    assert result["tool_use_id"] == use["id"]
    assert all(c.isalnum() or c in "_-" for c in use["id"])


def test_several_tool_results_go_in_one_anthropic_turn(wired: Wired) -> None:
    calls: Any = [
        {
            "id": f"call_{n}",
            "type": "function",
            "function": {"name": "get_weather", "arguments": "{}"},
        }
        for n in (1, 2)
    ]
    with openai_client(wired) as client:
        client.chat.completions.create(
            model="anthropic-prod",
            tools=OPENAI_TOOLS[:1],
            messages=[
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None, "tool_calls": calls},
                {"role": "tool", "tool_call_id": "call_1", "content": "rainy"},
                {"role": "tool", "tool_call_id": "call_2", "content": "windy"},
                {"role": "user", "content": "and so?"},
            ],
        )
    last = wired.anthropic.last_request.json()["messages"][-1]
    assert last["role"] == "user"
    assert [block["type"] for block in last["content"]] == ["tool_result", "tool_result", "text"]


@pytest.mark.parametrize(
    ("model", "status", "error_class"),
    [
        ("anthropic-error-429", 429, openai.RateLimitError),
        ("anthropic-error-500", 500, openai.InternalServerError),
        ("anthropic-error-400", 400, openai.BadRequestError),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_errors_reach_openai_agents_in_openai_form(
    wired: Wired, model: str, status: int, error_class: type[openai.APIStatusError], stream: bool
) -> None:
    with openai_client(wired) as client, pytest.raises(error_class) as raised:
        client.chat.completions.create(
            model=model, stream=stream, messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.status_code == status
    body: Any = raised.value.body
    assert set(body) == {"message", "type", "param", "code"}  # OpenAI's error object


@pytest.mark.parametrize(
    ("model", "status", "error_class"),
    [
        ("openai-error-429", 429, anthropic.RateLimitError),
        ("openai-error-500", 500, anthropic.InternalServerError),
        ("openai-error-400", 400, anthropic.BadRequestError),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_openai_errors_reach_anthropic_agents_in_anthropic_form(
    wired: Wired, model: str, status: int, error_class: type[anthropic.APIStatusError], stream: bool
) -> None:
    messages: Any = [{"role": "user", "content": "hi"}]

    def call(client: anthropic.Anthropic) -> None:
        if stream:
            with client.messages.stream(model=model, max_tokens=10, messages=messages) as events:
                events.get_final_message()
        else:
            client.messages.create(model=model, max_tokens=10, messages=messages)

    with anthropic_client(wired) as client, pytest.raises(error_class) as raised:
        call(client)
    assert raised.value.status_code == status
    body: Any = raised.value.body
    assert body["type"] == "error"


def test_overload_529_reaches_openai_agents_as_503(wired: Wired) -> None:
    wired.broker.admin.model(
        "anthropic-error-529",
        "anthropic",
        model="claude-error-529",
        base_url=wired.anthropic.url,
        credential=wired.anthropic.api_key,
    )
    with openai_client(wired) as client, pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(
            model="anthropic-error-529", messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.status_code == 503


@pytest.mark.parametrize(
    ("agent", "model"), [("openai", "anthropic-stream-cut"), ("anthropic", "openai-stream-cut")]
)
def test_a_cut_translated_stream_raises_in_the_sdk(wired: Wired, agent: str, model: str) -> None:
    if agent == "openai":
        with openai_client(wired) as client, pytest.raises(openai.APIError):
            for _chunk in client.chat.completions.create(
                model=model, stream=True, messages=[{"role": "user", "content": "cut me"}]
            ):
                pass
        return
    with anthropic_client(wired) as client, pytest.raises(anthropic.APIError):
        with client.messages.stream(
            model=model, max_tokens=50, messages=[{"role": "user", "content": "cut me"}]
        ) as events:
            events.get_final_message()


@pytest.mark.parametrize(
    ("path", "model", "body", "param"),
    [
        ("/v1/chat/completions", "anthropic-prod", {"n": 2}, "n"),
        ("/v1/chat/completions", "anthropic-prod", {"logprobs": True}, "logprobs"),
        ("/v1/chat/completions", "anthropic-prod", {"temperature": 1.5}, "temperature"),
        ("/v1/messages", "gpt-prod", {"top_k": 5, "max_tokens": 10}, "top_k"),
    ],
)
def test_a_field_the_target_cannot_carry_is_a_400_naming_it(
    wired: Wired, path: str, model: str, body: dict[str, Any], param: str
) -> None:
    wired.openai.reset()
    wired.anthropic.reset()
    request = {"model": model, "messages": [{"role": "user", "content": "hi"}], **body}
    headers = {"authorization": f"Bearer {wired.token}", "anthropic-version": "2023-06-01"}
    response = httpx.post(wired.broker.url + path, json=request, headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert param in error["message"]
    assert wired.openai.requests == []
    assert wired.anthropic.requests == []


def test_translated_calls_are_audited_with_both_formats_and_usage(wired: Wired) -> None:
    with anthropic_client(wired) as client:
        with client.messages.stream(
            model="gpt-prod", max_tokens=50, messages=[{"role": "user", "content": "audit me"}]
        ) as stream:
            stream.get_final_message()
    row = audit_record(
        wired,
        lambda r: (
            r["requested_model"] == "gpt-prod"
            and r["format_in"] == "anthropic"
            and r["status"] == 200
        ),
    )
    assert row["format_in"] == "anthropic"
    assert row["format_out"] == "openai"
    assert row["status"] == 200
    assert row["input_tokens"]
    assert row["output_tokens"]


def test_count_tokens_without_a_counting_provider_is_a_marked_estimate(wired: Wired) -> None:
    with anthropic_client(wired) as client:
        counted = client.messages.count_tokens(
            model="gpt-prod", messages=[{"role": "user", "content": "count me please"}]
        )
    assert counted.input_tokens > 0
    assert (counted.model_extra or {}).get("estimated") is True
