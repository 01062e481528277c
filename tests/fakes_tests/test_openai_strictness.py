"""The fake OpenAI upstream refuses what the real API refuses (a 400 naming the field).

Each case is a request a careless translator could build; the openai SDK must
raise `BadRequestError` carrying the fake's message, `param` and `code`.
"""

from typing import Any

import openai
import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes_tests.sdk_calls import OPENAI_HELLO as HELLO

TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def _call(call_id: str = "call_1", arguments: object = "{}") -> dict[str, object]:
    function = {"name": "get_weather", "arguments": arguments}
    return {"id": call_id, "type": "function", "function": function}


def _asks(*calls: dict[str, object]) -> dict[str, object]:
    return {"role": "assistant", "content": None, "tool_calls": list(calls)}


def _answer(call_id: str = "call_1") -> dict[str, object]:
    return {"role": "tool", "tool_call_id": call_id, "content": "18C"}


def _create(client: openai.OpenAI, **overrides: Any) -> Any:
    params: dict[str, Any] = {"model": "ok", "messages": HELLO, **overrides}
    return client.chat.completions.create(**params)


REJECTED: list[tuple[str, dict[str, Any], str | None, str | None, str]] = [
    (
        "unknown top-level argument",
        {"extra_body": {"max_output_tokens": 5}},
        None,
        None,
        "Unrecognized request argument supplied: max_output_tokens",
    ),
    (
        "Anthropic system field",
        {"extra_body": {"system": "be brief"}},
        None,
        None,
        "Unrecognized request argument supplied: system",
    ),
    (
        "unknown role",
        {"messages": [{"role": "model", "content": "hi"}]},
        "messages[0].role",
        "invalid_value",
        "Invalid value: 'model'. Supported values are: 'system', 'developer', 'user', 'assistant', and 'tool'.",
    ),
    (
        "tool call answered by a user message",
        {"messages": [*HELLO, _asks(_call()), {"role": "user", "content": "18C"}]},
        "messages[1].role",
        None,
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_1",
    ),
    (
        "tool call as the last message",
        {"messages": [*HELLO, _asks(_call())]},
        "messages[1].role",
        None,
        "An assistant message with 'tool_calls' must be followed by tool messages",
    ),
    (
        "one of two parallel calls unanswered",
        {"messages": [*HELLO, _asks(_call("call_1"), _call("call_2")), _answer("call_1"), *HELLO]},
        "messages[1].role",
        None,
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_2",
    ),
    (
        "tool message without a preceding tool call",
        {"messages": [*HELLO, _answer()]},
        "messages[1].role",
        None,
        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
    ),
    (
        "tool message after an intervening user message",
        {"messages": [*HELLO, _asks(_call()), _answer(), *HELLO, _answer()]},
        "messages[4].role",
        None,
        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
    ),
    (
        "tool message answering an unknown id",
        {"messages": [*HELLO, _asks(_call()), _answer(), _answer("call_9")]},
        "messages[3].tool_call_id",
        None,
        "Invalid parameter: 'tool_call_id' of 'call_9' not found in 'tool_calls' of previous message.",
    ),
    (
        "tool message without tool_call_id",
        {"messages": [*HELLO, _asks(_call()), {"role": "tool", "content": "18C"}]},
        "messages[2].tool_call_id",
        "missing_required_parameter",
        "Missing required parameter: 'messages[2].tool_call_id'.",
    ),
    (
        "arguments as an object",
        {"messages": [*HELLO, _asks(_call(arguments={"city": "Paris"})), _answer()]},
        "messages[1].tool_calls[0].function.arguments",
        "invalid_type",
        "Invalid type for 'messages[1].tool_calls[0].function.arguments': expected a string, but got an object instead.",
    ),
    (
        "arguments missing",
        {
            "messages": [
                *HELLO,
                _asks({"id": "call_1", "type": "function", "function": {"name": "get_weather"}}),
                _answer(),
            ]
        },
        "messages[1].tool_calls[0].function.arguments",
        "missing_required_parameter",
        "Missing required parameter: 'messages[1].tool_calls[0].function.arguments'.",
    ),
    (
        "Anthropic tool_result block in a user message",
        {
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "x", "content": "18C"}],
                }
            ]
        },
        "messages[0].content[0].type",
        "invalid_value",
        "Invalid value: 'tool_result'. Supported values are: 'text', 'image_url', 'input_audio', and 'file'.",
    ),
    (
        "content as a number",
        {"messages": [{"role": "user", "content": 5}]},
        "messages[0].content",
        "invalid_type",
        "Invalid type for 'messages[0].content': expected a string or an array, but got an integer instead.",
    ),
    (
        "temperature above two",
        {"temperature": 2.5},
        "temperature",
        "decimal_above_max_value",
        "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.",
    ),
    (
        "temperature below zero",
        {"temperature": -1},
        "temperature",
        "decimal_below_min_value",
        "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -1 instead.",
    ),
    (
        "temperature as a string",
        {"temperature": "hot"},
        "temperature",
        "invalid_type",
        "Invalid type for 'temperature': expected a decimal, but got a string instead.",
    ),
    (
        "five stop sequences",
        {"stop": ["a", "b", "c", "d", "e"]},
        "stop",
        "array_above_max_length",
        "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length 5 instead.",
    ),
    (
        "stream_options without stream",
        {"stream_options": {"include_usage": True}},
        "stream_options",
        "invalid_value",
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
    ),
    (
        "Anthropic-shaped tool",
        {"tools": [{"name": "get_weather", "input_schema": {"type": "object"}}]},
        "tools[0].type",
        "missing_required_parameter",
        "Missing required parameter: 'tools[0].type'.",
    ),
    (
        "tool name with a dot",
        {"tools": [{"type": "function", "function": {"name": "weather.get"}}]},
        "tools[0].function.name",
        "invalid_value",
        "Invalid 'tools[0].function.name': string does not match pattern.",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "param", "code", "expected"),
    [case[1:] for case in REJECTED],
    ids=[case[0] for case in REJECTED],
)
def test_refused_like_the_real_api(
    openai_client: openai.OpenAI,
    overrides: dict[str, Any],
    param: str | None,
    code: str | None,
    expected: str,
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        _create(openai_client, **overrides)

    body = caught.value.body
    assert isinstance(body, dict)
    assert body["type"] == "invalid_request_error"
    assert body["message"].startswith(expected)
    assert (caught.value.param, caught.value.code) == (param, code)


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("developer and system roles", {"messages": [{"role": "developer", "content": "x"}, *HELLO]}),
    (
        "parallel calls answered in any order",
        {
            "messages": [
                *HELLO,
                _asks(_call("call_1"), _call("call_2")),
                _answer("call_2"),
                _answer("call_1"),
            ]
        },
    ),
    (
        "tool answers then more turns",
        {
            "messages": [
                *HELLO,
                _asks(_call()),
                _answer(),
                {"role": "assistant", "content": "ok"},
                *HELLO,
            ]
        },
    ),
    (
        "text parts everywhere",
        {"messages": [{"role": "system", "content": [{"type": "text", "text": "x"}]}, *HELLO]},
    ),
    ("temperature bounds", {"temperature": 2, "top_p": 1}),
    ("four stop sequences", {"stop": ["a", "b", "c", "d"]}),
    ("stop as one string", {"stop": "a"}),
    ("stream_options with stream", {"stream": True, "stream_options": {"include_usage": True}}),
    ("tools with choice", {"tools": [TOOL], "tool_choice": "auto", "parallel_tool_calls": False}),
]


@pytest.mark.parametrize(
    "overrides", [overrides for _, overrides in ACCEPTED], ids=[case for case, _ in ACCEPTED]
)
def test_valid_requests_still_pass(openai_client: openai.OpenAI, overrides: dict[str, Any]) -> None:
    result = _create(openai_client, **overrides)

    if overrides.get("stream"):
        assert list(result)
    else:
        assert result.choices


def test_rejected_requests_are_still_recorded(
    fake_openai: FakeOpenAI, openai_client: openai.OpenAI
) -> None:
    with pytest.raises(openai.BadRequestError):
        _create(openai_client, extra_body={"thinking": {"type": "enabled"}})

    assert fake_openai.last_json("/v1/chat/completions")["thinking"] == {"type": "enabled"}
