"""Request digests: facts read from OpenAI and Anthropic bodies; 400s for bad shapes."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from dome.errors import InvalidRequestError
from dome.wire.anthropic import digest_messages_request
from dome.wire.canonical import ToolParameter, ToolSummary, summarize_tool
from dome.wire.openai import digest_chat_request

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "integer"},
        "metric": {"type": "boolean"},
        "note": {"type": ["string", "null"]},
        "extra": {"type": "object"},
        "unit": {"enum": ["c", "f"]},
    },
    "required": ["city", "days", "metric", "note", "extra", "unit"],
}
WEATHER_SUMMARY = ToolSummary(
    name="get_weather",
    required=(
        ToolParameter("city", "string"),
        ToolParameter("days", "integer"),
        ToolParameter("metric", "boolean"),
        ToolParameter("note", "string"),
        ToolParameter("extra", "object"),
        ToolParameter("unit", None),
    ),
)
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {"name": "get_weather", "parameters": WEATHER_SCHEMA},
    },
    {"type": "function", "function": {"name": "get_time"}},
]
ANTHROPIC_TOOLS = [
    {"name": "get_weather", "input_schema": WEATHER_SCHEMA},
    {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
]


def test_openai_digest_of_a_plain_conversation() -> None:
    body = {
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "First question"},
            {"role": "assistant", "content": "First answer"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Second"},
                    {"type": "text", "text": "question"},
                ],
            },
        ],
    }
    digest = digest_chat_request(orjson.dumps(body))
    assert digest.last_user_text == "Second\nquestion"
    assert digest.tool_names == ()
    assert digest.first_tool is None
    assert not digest.ends_with_tool_result
    assert digest.input_text_chars == len("Be brief.First questionFirst answerSecond\nquestion")
    assert digest.max_tokens is None
    assert not digest.stream
    assert not digest.include_usage


def test_openai_digest_of_a_tool_loop() -> None:
    body = {
        "model": "gpt-test",
        "messages": [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
        ],
        "tools": OPENAI_TOOLS,
    }
    digest = digest_chat_request(body)
    assert digest.tool_names == ("get_weather", "get_time")
    assert digest.first_tool == WEATHER_SUMMARY
    assert digest.ends_with_tool_result
    assert digest.last_user_text == "Weather?"
    assert digest.input_text_chars == len("Weather?{}18C") + len(orjson.dumps(OPENAI_TOOLS))


def test_openai_max_completion_tokens_wins_over_max_tokens() -> None:
    body = {
        "messages": [{"role": "user", "content": "x"}],
        "max_tokens": 50,
        "max_completion_tokens": 9,
    }
    assert digest_chat_request(body).max_tokens == 9
    del body["max_completion_tokens"]
    assert digest_chat_request(body).max_tokens == 50


@pytest.mark.parametrize(
    ("stream", "include_usage", "expected"),
    [
        (True, True, True),
        (True, False, False),
        (False, True, False),
        (True, None, False),
    ],
)
def test_openai_include_usage_only_counts_on_streams(
    stream: bool, include_usage: bool | None, expected: bool
) -> None:
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": "x"}],
        "stream": stream,
    }
    if include_usage is not None:
        body["stream_options"] = {"include_usage": include_usage}
    digest = digest_chat_request(body)
    assert digest.stream is stream
    assert digest.include_usage is expected


def test_anthropic_digest_of_a_tool_loop() -> None:
    body = {
        "model": "claude-test",
        "max_tokens": 64,
        "system": [{"type": "text", "text": "Be brief."}],
        "stream": True,
        "messages": [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "text", "text": "18C"}],
                    }
                ],
            },
        ],
        "tools": ANTHROPIC_TOOLS,
    }
    digest = digest_messages_request(orjson.dumps(body))
    assert digest.last_user_text == "Weather?"  # the tool-result message has no text
    assert digest.tool_names == ("get_weather", "get_time")
    assert digest.first_tool == WEATHER_SUMMARY
    assert digest.ends_with_tool_result
    assert digest.max_tokens == 64
    assert digest.stream
    assert not digest.include_usage
    texts = "Be brief." + "Weather?" + '{"city":"Paris"}' + "18C"
    assert digest.input_text_chars == len(texts) + len(orjson.dumps(ANTHROPIC_TOOLS))


def test_anthropic_digest_of_a_plain_conversation() -> None:
    body = {
        "max_tokens": 10,
        "system": "Be brief.",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Hello"},
                    {"type": "image", "source": {}},
                ],
            },
        ],
    }
    digest = digest_messages_request(body)
    assert digest.last_user_text == "Hello"
    assert not digest.ends_with_tool_result
    assert digest.first_tool is None
    assert not digest.stream


def test_summarize_tool_without_required_properties() -> None:
    assert summarize_tool("f", {"type": "object"}) == ToolSummary("f", ())
    assert summarize_tool("f", {"required": ["a"]}) == ToolSummary("f", (ToolParameter("a", None),))


OPENAI_ERRORS = [
    (b"{not json", None),
    (b"[1]", None),
    ({}, "messages: field required"),
    ({"messages": "hi"}, "messages: expected an array"),
    ({"messages": []}, "messages: must not be empty"),
    ({"messages": ["hi"]}, "messages.0: expected an object"),
    ({"messages": [{"content": "x"}]}, "messages.0.role: field required"),
    ({"messages": [{"role": "user"}]}, "messages.0.content: field required"),
    (
        {"messages": [{"role": "user", "content": 5}]},
        "messages.0.content: expected string or array",
    ),
    (
        {"messages": [{"role": "user", "content": [{"type": "text"}]}]},
        "messages.0.content.0.text: expected a string",
    ),
    (
        {"messages": [{"role": "user", "content": "x"}], "stream": "yes"},
        "stream: expected a boolean",
    ),
    (
        {
            "messages": [{"role": "user", "content": "x"}],
            "stream": True,
            "stream_options": {"include_usage": 1},
        },
        "stream_options.include_usage: expected a boolean",
    ),
    (
        {
            "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function"}],
        },
        "tools.0.function: field required",
    ),
    (
        {
            "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {}}],
        },
        "tools.0.function.name: field required",
    ),
]


@pytest.mark.parametrize(("body", "message"), OPENAI_ERRORS)
def test_openai_bad_shapes_name_the_field(
    body: bytes | dict[str, Any], message: str | None
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        digest_chat_request(body)
    if message is not None:
        assert caught.value.message == message
        assert caught.value.param == message.split(":", maxsplit=1)[0]


ANTHROPIC_MESSAGE = {"role": "user", "content": "x"}
ANTHROPIC_ERRORS = [
    ({"max_tokens": 5}, "messages: field required"),
    ({"messages": [ANTHROPIC_MESSAGE]}, "max_tokens: field required"),
    (
        {"messages": [{"role": "system", "content": "x"}], "max_tokens": 5},
        "messages.0.role: expected 'user' or 'assistant'",
    ),
    (
        {"messages": [{"role": "user"}], "max_tokens": 5},
        "messages.0.content: field required",
    ),
    (
        {"messages": [{"role": "user", "content": {}}], "max_tokens": 5},
        "messages.0.content: expected string or array",
    ),
    (
        {"messages": [{"role": "user", "content": [1]}], "max_tokens": 5},
        "messages.0.content.0: expected an object",
    ),
    (
        {"messages": [ANTHROPIC_MESSAGE], "max_tokens": 5, "system": 3},
        "system: expected string or array",
    ),
    (
        {"messages": [ANTHROPIC_MESSAGE], "max_tokens": 5, "tools": [{}]},
        "tools.0.name: field required",
    ),
    (
        {
            "messages": [ANTHROPIC_MESSAGE],
            "max_tokens": 5,
            "tools": [{"name": "f", "input_schema": []}],
        },
        "tools.0.input_schema: expected an object",
    ),
]


@pytest.mark.parametrize(("body", "message"), ANTHROPIC_ERRORS)
def test_anthropic_bad_shapes_name_the_field(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        digest_messages_request(body)
    assert caught.value.message == message
    assert caught.value.param == message.split(":", maxsplit=1)[0]


def test_anthropic_max_tokens_must_be_an_integer() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        digest_messages_request({"messages": [ANTHROPIC_MESSAGE], "max_tokens": "5"})
    assert caught.value.param == "max_tokens"
