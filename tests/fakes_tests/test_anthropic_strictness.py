"""The fake Anthropic upstream refuses what the real API refuses (a 400 naming the field).

Each case is a request a careless translator could build; the anthropic SDK
must raise `BadRequestError` carrying the fake's message.
"""

from typing import Any, cast

import anthropic
import pytest
from anthropic.types import MessageParam

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes_tests.sdk_calls import ANTHROPIC_HELLO as HELLO

TOOL = {"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}


def _user(content: object) -> dict[str, object]:
    return {"role": "user", "content": content}


def _assistant(content: object) -> dict[str, object]:
    return {"role": "assistant", "content": content}


def _tool_use(call_id: str = "toolu_1", tool_input: object = None) -> dict[str, object]:
    arguments = {} if tool_input is None else tool_input
    return {"type": "tool_use", "id": call_id, "name": "get_weather", "input": arguments}


def _tool_result(call_id: str = "toolu_1") -> dict[str, object]:
    return {"type": "tool_result", "tool_use_id": call_id, "content": "18C"}


def _create(client: anthropic.Anthropic, **overrides: Any) -> Any:
    params: dict[str, Any] = {"model": "ok", "max_tokens": 64, "messages": HELLO, **overrides}
    return client.messages.create(**params)


def _rejection(client: anthropic.Anthropic, **overrides: Any) -> str:
    with pytest.raises(anthropic.BadRequestError) as caught:
        _create(client, **overrides)
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    return str(body["error"]["message"])


REJECTED: list[tuple[str, dict[str, Any], str]] = [
    (
        "unknown top-level field",
        {"extra_body": {"frequency_penalty": 0.5}},
        "frequency_penalty: Extra inputs are not permitted",
    ),
    (
        "max_tokens below one",
        {"max_tokens": 0},
        "max_tokens: Input should be greater than or equal to 1",
    ),
    (
        "system role inside messages",
        {"messages": [{"role": "system", "content": "be brief"}, *HELLO]},
        "messages.0.role: Input should be 'user' or 'assistant'",
    ),
    (
        "tool role inside messages",
        {"messages": [*HELLO, {"role": "tool", "content": "18C"}]},
        "messages.1.role: Input should be 'user' or 'assistant'",
    ),
    (
        "assistant first",
        {"messages": [_assistant("hi"), *HELLO]},
        'messages.0.role: first message must use the "user" role',
    ),
    (
        "temperature above one",
        {"extra_body": {"temperature": 1.5}},
        "temperature: Input should be less than or equal to 1",
    ),
    (
        "temperature below zero",
        {"extra_body": {"temperature": -0.1}},
        "temperature: Input should be greater than or equal to 0",
    ),
    (
        "tool_use answered by text",
        {"messages": [*HELLO, _assistant([_tool_use()]), _user("it is 18C")]},
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
    ),
    (
        "tool_use as the last message",
        {"messages": [*HELLO, _assistant([_tool_use()])]},
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1.",
    ),
    (
        "one of two parallel tool_uses unanswered",
        {
            "messages": [
                *HELLO,
                _assistant([_tool_use("toolu_1"), _tool_use("toolu_2")]),
                _user([_tool_result("toolu_1")]),
            ]
        },
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_2.",
    ),
    (
        "tool_result answered one turn late",
        {
            "messages": [
                *HELLO,
                _assistant([_tool_use()]),
                _user("wait"),
                _assistant("ok"),
                _user([_tool_result()]),
            ]
        },
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1.",
    ),
    (
        "text before tool_result",
        {
            "messages": [
                *HELLO,
                _assistant([_tool_use()]),
                _user([{"type": "text", "text": "here"}, _tool_result()]),
            ]
        },
        "messages.2.content.1: `tool_result` blocks must come first in the user message, before any other content",
    ),
    (
        "tool_result for an unknown id",
        {
            "messages": [
                *HELLO,
                _assistant([_tool_use()]),
                _user([_tool_result(), _tool_result("toolu_9")]),
            ]
        },
        "messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_9. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.",
    ),
    (
        "tool_result without any tool_use",
        {"messages": [_user([_tool_result()])]},
        "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_1.",
    ),
    (
        "tool_use id from another vendor",
        {
            "messages": [
                *HELLO,
                _assistant([_tool_use("functions.get_weather:0")]),
                _user([_tool_result("functions.get_weather:0")]),
            ]
        },
        "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'",
    ),
    (
        "tool_result id from another vendor",
        {"messages": [*HELLO, _assistant("ok"), _user([_tool_result("call:1")])]},
        "messages.2.content.0.tool_result.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'",
    ),
    (
        "tool_use input as a JSON string",
        {
            "messages": [
                *HELLO,
                _assistant([_tool_use(tool_input='{"city": "Paris"}')]),
                _user([_tool_result()]),
            ]
        },
        "messages.1.content.0.tool_use.input: Input should be a valid dictionary",
    ),
    (
        "tool_choice as an OpenAI string",
        {"tools": [TOOL], "tool_choice": "auto"},
        "tool_choice: Input should be a valid dictionary or object",
    ),
    (
        "tool_choice type required",
        {"tools": [TOOL], "tool_choice": {"type": "required"}},
        "tool_choice: Input tag 'required' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'",
    ),
    (
        "tool_choice tool without a name",
        {"tools": [TOOL], "tool_choice": {"type": "tool"}},
        "tool_choice.tool.name: Field required",
    ),
    (
        "tool_choice in the OpenAI function shape",
        {
            "tools": [TOOL],
            "tool_choice": {"type": "tool", "function": {"name": "get_weather"}},
        },
        "tool_choice.tool.function: Extra inputs are not permitted",
    ),
    (
        "tool_choice none with disable_parallel_tool_use",
        {"tools": [TOOL], "tool_choice": {"type": "none", "disable_parallel_tool_use": True}},
        "tool_choice.none.disable_parallel_tool_use: Extra inputs are not permitted",
    ),
    (
        "system as a number",
        {"system": 5},
        "system: Input should be a valid string or a list of text blocks",
    ),
    (
        "system with a non-text block",
        {"system": [{"type": "text", "text": "ok"}, {"type": "image", "source": {}}]},
        "system.1.type: Input should be 'text'",
    ),
    (
        "system with an OpenAI message inside",
        {"system": [{"role": "system", "content": "be brief"}]},
        "system.0.type: Input should be 'text'",
    ),
    (
        "empty user content",
        {"messages": [_user("")]},
        "messages.0: all messages must have non-empty content except for the optional final assistant message",
    ),
    (
        "empty text block",
        {"messages": [_user([{"type": "text", "text": ""}])]},
        "messages.0.content.0.text.text: text content blocks must be non-empty",
    ),
    (
        "OpenAI tool_calls shape inside content",
        {"messages": [*HELLO, _assistant([{"type": "function", "id": "call_1"}])]},
        "messages.1.content.0: Input tag 'function' found using 'type' does not match any of the expected tags:",
    ),
    (
        "OpenAI-shaped tool",
        {"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]},
        "tools.0: Input tag 'function' found using 'type' does not match any of the expected tags:",
    ),
    (
        "tool without input_schema",
        {"tools": [{"name": "get_weather"}]},
        "tools.0.custom.input_schema: Field required",
    ),
    (
        "tool name with a dot",
        {"tools": [{**TOOL, "name": "weather.get"}]},
        "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [(overrides, expected) for _, overrides, expected in REJECTED],
    ids=[case for case, _, _ in REJECTED],
)
def test_refused_like_the_real_api(
    anthropic_client: anthropic.Anthropic, overrides: dict[str, Any], expected: str
) -> None:
    assert _rejection(anthropic_client, **overrides).startswith(expected)


def test_max_tokens_must_be_an_integer(
    fake_anthropic: FakeAnthropic, anthropic_client: anthropic.Anthropic
) -> None:
    # The SDK insists on max_tokens itself, so replace it on the way out.
    with pytest.raises(anthropic.BadRequestError) as caught:
        anthropic_client.messages.create(
            model="ok", max_tokens=64, messages=HELLO, extra_body={"max_tokens": None}
        )

    assert isinstance(caught.value.body, dict)
    assert caught.value.body["error"]["message"] == "max_tokens: Input should be a valid integer"
    assert fake_anthropic.last_json()["max_tokens"] is None


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("system as text blocks", {"system": [{"type": "text", "text": "be brief"}]}),
    ("temperature zero with top_k", {"extra_body": {"temperature": 0, "top_k": 5}}),
    (
        "tool_choice with disable_parallel_tool_use",
        {"tools": [TOOL], "tool_choice": {"type": "auto", "disable_parallel_tool_use": True}},
    ),
    ("tool_choice tool", {"tools": [TOOL], "tool_choice": {"type": "tool", "name": "get_weather"}}),
    (
        "server tool",
        {"tools": [TOOL, {"type": "web_search_20250305", "name": "web_search"}]},
    ),
    (
        "results then text",
        {
            "messages": [
                *HELLO,
                _assistant([{"type": "text", "text": "checking"}, _tool_use("toolu_a")]),
                _user([_tool_result("toolu_a"), {"type": "text", "text": "thanks"}]),
            ]
        },
    ),
    ("consecutive user turns", {"messages": [*HELLO, *HELLO]}),
    ("final assistant prefill", {"messages": [*HELLO, _assistant("Sure")]}),
    ("metadata and stop_sequences", {"metadata": {"user_id": "u1"}, "stop_sequences": ["x"]}),
]


@pytest.mark.parametrize(
    "overrides", [overrides for _, overrides in ACCEPTED], ids=[case for case, _ in ACCEPTED]
)
def test_valid_requests_still_pass(
    anthropic_client: anthropic.Anthropic, overrides: dict[str, Any]
) -> None:
    message = _create(anthropic_client, **overrides)

    assert message.content


def test_count_tokens_refuses_max_tokens(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        anthropic_client.messages.count_tokens(
            model="ok", messages=HELLO, extra_body={"max_tokens": 5}
        )

    assert isinstance(caught.value.body, dict)
    assert caught.value.body["error"]["message"] == "max_tokens: Extra inputs are not permitted"


def test_count_tokens_checks_the_conversation(anthropic_client: anthropic.Anthropic) -> None:
    messages = cast("list[MessageParam]", [*HELLO, _assistant([_tool_use()])])

    with pytest.raises(anthropic.BadRequestError) as caught:
        anthropic_client.messages.count_tokens(model="ok", messages=messages)

    assert isinstance(caught.value.body, dict)
    assert caught.value.body["error"]["message"].startswith("messages.1: `tool_use` ids")


def test_rejected_requests_are_still_recorded(
    fake_anthropic: FakeAnthropic, anthropic_client: anthropic.Anthropic
) -> None:
    _rejection(anthropic_client, extra_body={"top_logprobs": 2})

    assert fake_anthropic.last_json("/v1/messages")["top_logprobs"] == 2
