"""Canonical requests as OpenAI chat upstream bodies."""

from __future__ import annotations

import pytest

from dome.errors import UnsupportedError
from dome.wire.canonical import (
    ImageBlock,
    Message,
    Reasoning,
    RedactedThinkingBlock,
    Request,
    ResponseFormat,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCallBlock,
    ToolChoice,
    ToolResultBlock,
)
from dome.wire.openai import (
    encode_chat_request,
)

from .openai_requests import (
    WEATHER,
    on_the_wire,
    request_of,
)

# --- encoding: golden cases -------------------------------------------------------


def test_encode_turns_system_user_images_assistant_and_tool_results() -> None:
    request = request_of(
        Message("system", (TextBlock("Be brief."),)),
        Message("user", (TextBlock("Look:"), ImageBlock(data="iVBOR", media_type="image/png"))),
        Message(
            "assistant",
            (
                ThinkingBlock("private", "sig"),
                RedactedThinkingBlock("opaque"),
                TextBlock("Checking."),
                ToolCallBlock("call_a", "get_weather", ""),
                ToolCallBlock("call_b", "get_time", '{"tz":"CET"}'),
            ),
        ),
        Message(
            "user",
            (
                ToolResultBlock("call_a", (TextBlock("18C"),), is_error=True),
                ToolResultBlock("call_b", (TextBlock("12:00"), TextBlock("CET"))),
                TextBlock("And tomorrow?"),
                ImageBlock(url="https://x.test/map.png", detail="low"),
            ),
        ),
    )
    assert encode_chat_request(request, "gpt-4.1")["messages"] == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look:"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}},
            ],
        },
        {
            "role": "assistant",  # thinking left out: Chat has no field for it
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                },
                {
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": '{"tz":"CET"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": "18C"},
        {
            "role": "tool",
            "tool_call_id": "call_b",
            "content": [{"type": "text", "text": "12:00"}, {"type": "text", "text": "CET"}],
        },
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "And tomorrow?"},
                {
                    "type": "image_url",
                    "image_url": {"url": "https://x.test/map.png", "detail": "low"},
                },
            ],
        },
    ]


def test_encode_assistant_without_text_or_calls_sends_empty_content() -> None:
    hi = Message("user", (TextBlock("hi"),))
    request = request_of(hi, Message("assistant", (ThinkingBlock("x", "s"),)), hi)
    messages = on_the_wire(encode_chat_request(request, "m"))["messages"]
    assert messages[1] == {"role": "assistant", "content": ""}


def test_encode_options() -> None:
    request = request_of(
        max_tokens=512,
        temperature=0.5,
        top_p=0.9,
        stop=("END", "STOP"),
        tools=(Tool("get_weather", WEATHER, "Weather now", strict=True),),
        tool_choice=ToolChoice("tool", "get_weather"),
        parallel_tool_calls=False,
        response_format=ResponseFormat("json_schema", schema=WEATHER, strict=True),
        reasoning=Reasoning(effort="high"),
        user="end-user-7",
        stream=True,
    )
    body = encode_chat_request(request, "gpt-4.1")
    assert body == {
        "model": "gpt-4.1",
        "messages": [{"role": "user", "content": "hi"}],
        "max_completion_tokens": 512,
        "temperature": 0.5,
        "top_p": 0.9,
        "stop": ["END", "STOP"],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather now",
                    "parameters": WEATHER,
                    "strict": True,
                },
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "response", "schema": WEATHER, "strict": True},
        },
        "reasoning_effort": "high",
        "user": "end-user-7",
        "stream": True,
        "stream_options": {"include_usage": True},  # the broker meters every stream
    }


def test_encode_legacy_max_tokens_for_self_hosted_servers() -> None:
    body = encode_chat_request(request_of(max_tokens=64), "llama", legacy_max_tokens=True)
    assert body["max_tokens"] == 64
    assert "max_completion_tokens" not in body


@pytest.mark.parametrize(
    ("budget", "effort"), [(1024, "minimal"), (5000, "medium"), (16384, "high"), (10**6, "xhigh")]
)
def test_encode_a_thinking_budget_as_the_effort_that_covers_it(budget: int, effort: str) -> None:
    body = encode_chat_request(request_of(reasoning=Reasoning(budget_tokens=budget)), "m")
    assert body["reasoning_effort"] == effort


def test_encode_json_object_and_tool_options_only_beside_tools() -> None:
    body = encode_chat_request(
        request_of(
            response_format=ResponseFormat("json_object"),
            tool_choice=ToolChoice("none"),
            parallel_tool_calls=True,
        ),
        "m",
    )
    assert body["response_format"] == {"type": "json_object"}
    assert {"tools", "tool_choice", "parallel_tool_calls"}.isdisjoint(body)


def test_encode_leaves_out_what_was_not_stated() -> None:
    assert encode_chat_request(request_of(), "m") == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
    }


@pytest.mark.parametrize(
    ("request_", "param"),
    [
        (request_of(top_k=40), "top_k"),
        (request_of(stop=("a", "b", "c", "d", "e")), "stop"),
        (
            request_of(
                Message(
                    "user",
                    (ToolResultBlock("c", (ImageBlock(url="https://x.test/a.png"),)),),
                )
            ),
            "tool_result.content",
        ),
        (
            request_of(Message("system", (ImageBlock(url="https://x.test/a.png"),))),
            "messages.0.content",
        ),
        (request_of(Message("user", (ToolCallBlock("c", "f", "{}"),))), "messages.0"),
        (request_of(Message("assistant", (ImageBlock(url="https://x.test/a.png"),))), "messages.0"),
        (request_of(Message("user", (ImageBlock(data="AAAA"),))), "messages.0"),
    ],
)
def test_encode_refuses_what_openai_cannot_carry(request_: Request, param: str) -> None:
    with pytest.raises(UnsupportedError) as caught:
        encode_chat_request(request_, "m")
    assert caught.value.param == param
