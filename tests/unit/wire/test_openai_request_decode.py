"""OpenAI chat requests from agents: body -> canonical, and what is refused."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletion

from dome.errors import InvalidRequestError, UnsupportedError
from dome.wire.canonical import (
    ImageBlock,
    Message,
    Reasoning,
    RedactedThinkingBlock,
    Response,
    ResponseFormat,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCallBlock,
    ToolChoice,
    ToolResultBlock,
    Usage,
)
from dome.wire.openai import (
    CARRIED_FIELDS,
    IGNORED_FIELDS,
    UNSUPPORTED_FIELDS,
    decode_chat_request,
    encode_chat_completion,
    encode_chat_request,
)

from .openai_requests import (
    EMPTY_PARAMETERS,
    USER_HI,
    WEATHER,
    chat_body,
    request_of,
)

# --- decoding: golden cases -------------------------------------------------------


def test_system_and_developer_messages_become_system_turns_where_they_stand() -> None:
    body = chat_body(
        messages=[
            {"role": "system", "content": "Be brief."},
            USER_HI,
            {"role": "developer", "content": [{"type": "text", "text": "Use French."}]},
            {"role": "user", "content": "again"},
        ]
    )
    assert decode_chat_request(body).messages == (
        Message("system", (TextBlock("Be brief."),)),
        Message("user", (TextBlock("hi"),)),
        Message("system", (TextBlock("Use French."),)),
        Message("user", (TextBlock("again"),)),
    )


def test_multi_turn_with_tool_calls_and_one_user_turn_per_tool_message() -> None:
    body = chat_body(
        messages=[
            {"role": "user", "content": "Weather and time in Paris?"},
            {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                    {
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    },
                    {
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": ""},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_a", "content": "18C"},
            {
                "role": "tool",
                "tool_call_id": "call_b",
                "content": [{"type": "text", "text": "12:00"}, {"type": "text", "text": "CET"}],
            },
            {"role": "assistant", "content": "18C at noon."},
        ]
    )
    assert decode_chat_request(body).messages == (
        Message("user", (TextBlock("Weather and time in Paris?"),)),
        Message(
            "assistant",
            (
                TextBlock("Checking."),
                ToolCallBlock("call_a", "get_weather", '{"city":"Paris"}'),
                ToolCallBlock("call_b", "get_time", ""),  # arguments kept as sent
            ),
        ),
        Message("user", (ToolResultBlock("call_a", (TextBlock("18C"),)),)),
        Message("user", (ToolResultBlock("call_b", (TextBlock("12:00"), TextBlock("CET"))),)),
        Message("assistant", (TextBlock("18C at noon."),)),
    )


def test_assistant_empty_or_null_content_beside_calls_is_no_text() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    for content in ("", None):
        body = chat_body(
            messages=[USER_HI, {"role": "assistant", "content": content, "tool_calls": [call]}]
        )
        assert decode_chat_request(body).messages[1] == Message(
            "assistant", (ToolCallBlock("c", "f", "{}"),)
        )


def test_prior_refusal_is_kept_as_the_assistant_text() -> None:
    body = chat_body(
        messages=[
            USER_HI,
            {"role": "assistant", "content": None, "refusal": "I can't help with that."},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]},
        ]
    )
    messages = decode_chat_request(body).messages
    assert messages[1] == Message("assistant", (TextBlock("I can't help with that."),))
    assert messages[2] == Message("assistant", (TextBlock("No."),))


def test_images_by_https_url_and_base64_data_url() -> None:
    body = chat_body(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Compare:"},
                    {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ", "detail": "high"},
                    },
                ],
            }
        ]
    )
    assert decode_chat_request(body).messages[0].content == (
        TextBlock("Compare:"),
        ImageBlock(url="https://x.test/a.png"),
        ImageBlock(data="/9j/4AAQ", media_type="image/jpeg", detail="high"),
    )


def test_tools_choice_and_parallel_calls() -> None:
    body = chat_body(
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather now",
                    "parameters": WEATHER,
                    "strict": True,
                },
            },
            {"type": "function", "function": {"name": "get_time"}},
        ],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False,
    )
    request = decode_chat_request(body)
    assert request.tools == (
        Tool("get_weather", WEATHER, "Weather now", strict=True),
        Tool("get_time", EMPTY_PARAMETERS),  # no parameters: no arguments
    )
    assert request.tool_choice == ToolChoice("tool", "get_weather")
    assert request.parallel_tool_calls is False


@pytest.mark.parametrize(
    ("wire", "canonical"),
    [("auto", ToolChoice("auto")), ("required", ToolChoice("any")), ("none", ToolChoice("none"))],
)
def test_tool_choice_modes(wire: str, canonical: ToolChoice) -> None:
    assert decode_chat_request(chat_body(tool_choice=wire)).tool_choice == canonical
    request = request_of(tools=(Tool("f", {}),), tool_choice=canonical)
    assert encode_chat_request(request, "m")["tool_choice"] == wire


def test_sampling_stop_max_tokens_user_and_reasoning() -> None:
    request = decode_chat_request(
        chat_body(
            temperature=0.2,
            top_p=1,
            stop="END",
            max_completion_tokens=300,
            max_tokens=99,  # the deprecated alias loses to max_completion_tokens
            reasoning_effort="low",
            user="end-user-7",
        )
    )
    assert (request.temperature, request.top_p, request.stop) == (0.2, 1.0, ("END",))
    assert request.max_tokens == 300
    assert request.reasoning == Reasoning(effort="low")
    assert request.user == "end-user-7"
    assert decode_chat_request(chat_body(stop=["a", "b"], max_tokens=50)).stop == ("a", "b")
    assert decode_chat_request(chat_body(max_tokens=50)).max_tokens == 50


def test_safety_identifier_is_the_user_when_user_is_absent() -> None:
    assert decode_chat_request(chat_body(safety_identifier="s-1")).user == "s-1"
    assert decode_chat_request(chat_body(safety_identifier="s-1", user="u-1")).user == "u-1"


@pytest.mark.parametrize(
    ("wire", "canonical"),
    [
        ({"type": "text"}, None),
        ({"type": "json_object"}, ResponseFormat("json_object")),
        (
            {
                "type": "json_schema",
                "json_schema": {"name": "weather", "schema": WEATHER, "strict": True},
            },
            ResponseFormat("json_schema", schema=WEATHER, name="weather", strict=True),
        ),
    ],
)
def test_response_formats(wire: dict[str, Any], canonical: ResponseFormat | None) -> None:
    assert decode_chat_request(chat_body(response_format=wire)).response_format == canonical


def test_stream_and_include_usage() -> None:
    request = decode_chat_request(chat_body(stream=True, stream_options={"include_usage": True}))
    assert (request.stream, request.include_usage) == (True, True)
    request = decode_chat_request(chat_body(stream=True))
    assert (request.stream, request.include_usage) == (True, False)
    # Usage is streamed only with stream: true.
    request = decode_chat_request(chat_body(stream_options={"include_usage": True}))
    assert (request.stream, request.include_usage) == (False, False)


def test_thinking_blocks_in_history_keep_their_signatures() -> None:
    assistant = {
        "role": "assistant",
        "content": "Done.",
        "reasoning_content": "Let me think.",
        "thinking_blocks": [
            {"type": "thinking", "thinking": "Let me think.", "signature": "sig-1"},
            {"type": "redacted_thinking", "data": "opaque"},
        ],
    }
    assert decode_chat_request(chat_body(messages=[USER_HI, assistant])).messages[1] == Message(
        "assistant",
        (
            ThinkingBlock("Let me think.", "sig-1"),
            RedactedThinkingBlock("opaque"),
            TextBlock("Done."),
        ),
    )


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_text_without_blocks_is_one_unsigned_thinking_block(field: str) -> None:
    assistant = {"role": "assistant", "content": "4", field: "2+2"}
    assert decode_chat_request(chat_body(messages=[USER_HI, assistant])).messages[1] == Message(
        "assistant", (ThinkingBlock("2+2"), TextBlock("4"))
    )


def test_neutral_values_of_unsupported_fields_pass() -> None:
    body = chat_body(
        n=1,
        logprobs=False,
        top_logprobs=0,
        presence_penalty=0,
        frequency_penalty=0.0,
        logit_bias={},
        seed=None,
        modalities=["text"],
        verbosity="medium",
        functions=[],
        function_call=None,
    )
    assert decode_chat_request(body) == request_of()


def test_bookkeeping_fields_are_accepted_and_not_carried() -> None:
    body = chat_body(
        store=True,
        metadata={"team": "a"},
        service_tier="flex",
        prompt_cache_key="k",
        prompt_cache_retention="24h",
        prompt_cache_options={"ttl": "30m"},
        stream=True,
        stream_options={"include_usage": True, "include_obfuscation": False},
    )
    assert decode_chat_request(body) == request_of(stream=True, include_usage=True)


def test_messages_a_client_echoes_from_the_sdk_are_accepted() -> None:
    """The SDK serializes a parsed answer's message with every field it held."""
    response = Response(
        "chatcmpl-1",
        "gpt-test",
        (
            ThinkingBlock("hmm", "sig"),
            TextBlock("Checking."),
            ToolCallBlock("call_a", "get_weather", '{"city":"Paris"}'),
        ),
        "tool_use",
        Usage(),
    )
    completion = ChatCompletion.model_validate(encode_chat_completion(response, created=0))
    sent: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(orjson.loads(request.content))
        return httpx2.Response(200, json=encode_chat_completion(response, created=0))

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    with openai.OpenAI(api_key="x", base_url="http://mock.test/v1", http_client=http) as client:
        client.chat.completions.create(
            model="gpt-test",
            messages=[
                {"role": "user", "content": "Weather?"},
                completion.choices[0].message,  # type: ignore[list-item]
                {"role": "tool", "tool_call_id": "call_a", "content": "18C"},
            ],
        )
    echoed = sent[0]["messages"][1]
    assert {"refusal", "annotations", "thinking_blocks"} <= echoed.keys()
    assert decode_chat_request(sent[0]).messages[1] == Message("assistant", response.content)


# --- decoding: refusals and bad shapes --------------------------------------------


TOOL_CALL = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 2}, "n"),
        ({"n": True}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"frequency_penalty": -1}, "frequency_penalty"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"seed": 7}, "seed"),
        ({"audio": {"voice": "alloy", "format": "wav"}}, "audio"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"prediction": {"type": "content", "content": "x"}}, "prediction"),
        ({"web_search_options": {}}, "web_search_options"),
        ({"verbosity": "low"}, "verbosity"),
        ({"moderation": {"model": "omni-moderation-latest"}}, "moderation"),
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"function_call": "auto"}, "function_call"),
        ({"reasoning_effort": "max"}, "reasoning_effort"),
        ({"frobnicate": 1}, "frobnicate"),
        ({"stream": True, "stream_options": {"chunk_size": 3}}, "stream_options.chunk_size"),
        ({"tools": [{"type": "custom", "custom": {"name": "g"}}]}, "tools.0.type"),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "x": 1}}]},
            "tools.0.function.x",
        ),
        (
            {
                "tool_choice": {
                    "type": "allowed_tools",
                    "allowed_tools": {"mode": "auto", "tools": []},
                }
            },
            "tool_choice",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "x", "description": "d", "schema": {}},
                }
            },
            "response_format.json_schema.description",
        ),
        ({"messages": [{"role": "user", "content": "hi", "name": "ann"}]}, "messages.0.name"),
        ({"messages": [{"role": "system", "content": "x", "name": "ops"}]}, "messages.0.name"),
        ({"messages": [{"role": "function", "name": "f", "content": "1"}]}, "messages.0.role"),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}
                ]
            },
            "messages.0.content.0.type",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "file", "file": {"file_id": "f"}}]}
                ]
            },
            "messages.0.content.0.type",
        ),
        (
            {"messages": [USER_HI, {"role": "assistant", "content": None, "audio": {"id": "a"}}]},
            "messages.1.audio",
        ),
        (
            {
                "messages": [
                    USER_HI,
                    {
                        "role": "assistant",
                        "content": None,
                        "function_call": {"name": "f", "arguments": "{}"},
                    },
                ]
            },
            "messages.1.function_call",
        ),
        (
            {
                "messages": [
                    USER_HI,
                    {"role": "assistant", "tool_calls": [{**TOOL_CALL, "type": "custom"}]},
                ]
            },
            "messages.1.tool_calls.0.type",
        ),
        (
            {"messages": [{"role": "user", "content": "hi", "cache_control": {}}]},
            "messages.0.cache_control",
        ),
    ],
)
def test_what_cannot_be_translated_is_refused_by_name(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedError) as caught:
        decode_chat_request(chat_body(**fields))
    assert caught.value.param == param
    assert caught.value.message.startswith(f"{param}: ")


def test_refusal_messages_say_why() -> None:
    with pytest.raises(UnsupportedError) as caught:
        decode_chat_request(chat_body(n=3))
    assert caught.value.message == "n: only 1 choice can be translated to another provider's format"


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"model": None}, "model"),
        ({"messages": []}, "messages"),
        ({"messages": "hi"}, "messages"),
        ({"messages": ["hi"]}, "messages.0"),
        ({"messages": [{"content": "hi"}]}, "messages.0.role"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
        ({"messages": [{"role": "user"}]}, "messages.0.content"),
        ({"messages": [{"role": "user", "content": []}]}, "messages.0.content"),
        ({"messages": [{"role": "user", "content": 3}]}, "messages.0.content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "text"}]}]},
            "messages.0.content.0.text",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "video"}]}]},
            "messages.0.content.0.type",
        ),
        (
            {
                "messages": [
                    USER_HI,
                    USER_HI,
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "ftp://x/a.png"}}],
                    },
                ]
            },
            "messages.2.content.0.image_url.url",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "data:image/png,AAAA"}}
                        ],
                    }
                ]
            },
            "messages.0.content.0.image_url.url",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image_url",
                                "image_url": {"url": "https://x/a", "detail": "max"},
                            }
                        ],
                    }
                ]
            },
            "messages.0.content.0.image_url.detail",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
            "messages.0.content.0.image_url",
        ),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages.0.tool_call_id"),
        (
            {
                "messages": [
                    {
                        "role": "tool",
                        "tool_call_id": "c",
                        "content": [{"type": "image_url", "image_url": {"url": "https://x/a"}}],
                    }
                ]
            },
            "messages.0.content.0.type",
        ),
        (
            {
                "messages": [
                    USER_HI,
                    {"role": "assistant", "tool_calls": [{**TOOL_CALL, "function": {"name": "f"}}]},
                ]
            },
            "messages.1.tool_calls.0.function.arguments",
        ),
        ({"messages": [USER_HI, {"role": "assistant", "tool_calls": {}}]}, "messages.1.tool_calls"),
        (
            {"messages": [USER_HI, {"role": "assistant", "thinking_blocks": [{"type": "plan"}]}]},
            "messages.1.thinking_blocks.0.type",
        ),
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"top_p": -0.1}, "top_p"),
        ({"max_completion_tokens": -1}, "max_completion_tokens"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"stop": 5}, "stop"),
        ({"stop": ["a", 5]}, "stop.1"),
        ({"stream": "yes"}, "stream"),
        ({"stream": True, "stream_options": {"include_usage": 1}}, "stream_options.include_usage"),
        ({"parallel_tool_calls": "no"}, "parallel_tool_calls"),
        ({"tools": {}}, "tools"),
        ({"tools": [{"type": "function"}]}, "tools.0.function"),
        ({"tools": [{"type": "function", "function": {}}]}, "tools.0.function.name"),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]},
            "tools.0.function.parameters",
        ),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "strict": "yes"}}]},
            "tools.0.function.strict",
        ),
        ({"tool_choice": "always"}, "tool_choice"),
        ({"tool_choice": {"type": "function", "function": {}}}, "tool_choice.function.name"),
        ({"response_format": {"type": "yaml"}}, "response_format.type"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
            "response_format.json_schema.name",
        ),
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
        ({"user": 7}, "user"),
    ],
)
def test_bad_shapes_name_their_path(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode_chat_request(chat_body(**fields))
    assert not isinstance(caught.value, UnsupportedError)
    assert caught.value.param == param


# Every top-level property of CreateChatCompletionRequest (and the properties it
# inherits) in shared/specs/openai/openapi.yaml.
SPEC_FIELDS = {
    "messages", "model", "service_tier", "modalities", "verbosity", "reasoning_effort",
    "max_completion_tokens", "frequency_penalty", "presence_penalty", "web_search_options",
    "top_logprobs", "response_format", "audio", "store", "moderation", "stream", "stop",
    "logit_bias", "logprobs", "max_tokens", "n", "prediction", "seed", "stream_options",
    "tools", "tool_choice", "parallel_tool_calls", "function_call", "functions", "metadata",
    "temperature", "top_p", "user", "safety_identifier", "prompt_cache_key",
    "prompt_cache_retention", "prompt_cache_options",
}  # fmt: skip


def test_every_spec_field_is_carried_ignored_or_refused_exactly_once() -> None:
    lists = [CARRIED_FIELDS, set(IGNORED_FIELDS), set(UNSUPPORTED_FIELDS)]
    assert sum(len(names) for names in lists) == len(set().union(*lists))
    assert set().union(*lists) == SPEC_FIELDS
