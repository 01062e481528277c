"""Canonical requests as Anthropic Messages upstream bodies."""

from __future__ import annotations

from typing import Any

import pytest

from dome.errors import InvalidRequestError, UnsupportedError
from dome.wire.anthropic import (
    anthropic_tool_id,
    default_max_tokens,
)
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

from .anthropic_requests import (
    PNG,
    SCHEMA,
    TOOL_ID,
    assistant,
    encode,
    request_of,
    user,
)

# encode: canonical -> Anthropic upstream body


def test_minimal_request_gets_the_default_max_tokens() -> None:
    body = encode(request_of(), default=8192)
    assert body == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 8192,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }


def test_system_turns_are_hoisted_in_order() -> None:
    request = request_of(
        Message("system", (TextBlock("first"),)),
        user(TextBlock("a")),
        Message("system", (TextBlock("second"), TextBlock(""))),
        assistant(TextBlock("b")),
    )
    body = encode(request)
    assert body["system"] == [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]


def test_system_turns_hold_text_only() -> None:
    request = request_of(
        Message("system", (ImageBlock(url="https://x.test/a.png"),)), user(TextBlock("a"))
    )
    with pytest.raises(UnsupportedError) as caught:
        encode(request)
    assert caught.value.param == "messages.0.content.0"


def test_tool_results_of_several_tool_messages_merge_into_one_user_message() -> None:
    request = request_of(
        user(TextBlock("weather in Paris and Rome?")),
        assistant(
            ToolCallBlock("call_1", "w", '{"city":"Paris"}'),
            ToolCallBlock("call_2", "w", '{"city":"Rome"}'),
        ),
        user(ToolResultBlock("call_1", (TextBlock("18C"),))),
        user(ToolResultBlock("call_2", (TextBlock("21C"),))),
        user(TextBlock("and tomorrow?")),
    )
    messages = encode(request)["messages"]
    assert len(messages) == 3
    assert messages[2] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "call_1",
                "content": [{"type": "text", "text": "18C"}],
            },
            {
                "type": "tool_result",
                "tool_use_id": "call_2",
                "content": [{"type": "text", "text": "21C"}],
            },
            {"type": "text", "text": "and tomorrow?"},
        ],
    }


def test_tool_results_come_first_in_the_merged_user_message() -> None:
    request = request_of(
        user(TextBlock("go")),
        assistant(ToolCallBlock("call_1", "w", "{}")),
        user(TextBlock("note")),
        user(ToolResultBlock("call_1", (TextBlock("done"),), is_error=True)),
    )
    last = encode(request)["messages"][-1]["content"]
    assert [block["type"] for block in last] == ["tool_result", "text"]
    assert last[0]["is_error"] is True


def test_consecutive_assistant_turns_merge_and_empty_turns_vanish() -> None:
    request = request_of(
        user(TextBlock("a")),
        assistant(TextBlock("b")),
        user(TextBlock("")),
        assistant(TextBlock("c"), ThinkingBlock("unsigned thought")),
    )
    messages = encode(request)["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "b"}, {"type": "text", "text": "c"}],
    }


def test_thinking_blocks_keep_their_signature_and_unsigned_ones_are_dropped() -> None:
    request = request_of(
        user(TextBlock("a")),
        assistant(
            ThinkingBlock("t", "sig"),
            ThinkingBlock("other provider's"),
            RedactedThinkingBlock("xyz"),
            TextBlock("b"),
        ),
    )
    assert encode(request)["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "t", "signature": "sig"},
        {"type": "redacted_thinking", "data": "xyz"},
        {"type": "text", "text": "b"},
    ]


def test_only_system_turns_are_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        encode(Request("m", (Message("system", (TextBlock("x"),)),)))
    assert caught.value.param == "messages"


@pytest.mark.parametrize(
    "call_id", ["functions.get_weather:3", "call 1", "a.b", "a:b", "", "ünïcode", "call_abc-1_X"]
)
def test_tool_ids_are_rewritten_deterministically_into_anthropics_charset(call_id: str) -> None:
    request = request_of(
        user(TextBlock("go")),
        assistant(ToolCallBlock(call_id, "w", "{}")),
        user(ToolResultBlock(call_id, (TextBlock("ok"),))),
    )
    messages = encode(request)["messages"]
    used = messages[1]["content"][0]["id"]
    assert TOOL_ID.fullmatch(used)
    assert messages[2]["content"][0]["tool_use_id"] == used
    assert used == anthropic_tool_id(call_id) == anthropic_tool_id(used)
    if TOOL_ID.fullmatch(call_id):
        assert used == call_id


def test_rewritten_ids_stay_distinct() -> None:
    assert anthropic_tool_id("a.b") != anthropic_tool_id("a:b")


@pytest.mark.parametrize("arguments", ["", "   ", "{}"])
def test_blank_arguments_become_an_empty_input(arguments: str) -> None:
    request = request_of(user(TextBlock("go")), assistant(ToolCallBlock("c", "now", arguments)))
    assert encode(request)["messages"][1]["content"][0]["input"] == {}


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]", '"text"'])
def test_arguments_that_are_no_json_object_are_refused_with_their_path(arguments: str) -> None:
    request = request_of(
        user(TextBlock("go")), assistant(TextBlock("x"), ToolCallBlock("c", "f", arguments))
    )
    with pytest.raises(InvalidRequestError) as caught:
        encode(request)
    assert caught.value.param == "messages.1.content.1.arguments"


def test_images_url_base64_and_data_url() -> None:
    request = request_of(
        user(
            ImageBlock(url="https://x.test/a.png", detail="high"),
            ImageBlock(data=PNG, media_type="image/png", detail="low"),
            ImageBlock(url=f"data:image/webp;base64,{PNG}"),
        )
    )
    assert encode(request)["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/webp", "data": PNG}},
    ]


def test_image_media_types_anthropic_lacks_are_refused() -> None:
    with pytest.raises(UnsupportedError) as caught:
        encode(request_of(user(ImageBlock(data=PNG, media_type="image/bmp"))))
    assert caught.value.param == "messages.0.content.0"


def test_caller_max_tokens_wins_without_reasoning() -> None:
    assert encode(request_of(max_tokens=300), default=8192)["max_tokens"] == 300


@pytest.mark.parametrize(
    ("reasoning", "max_tokens", "default", "expected_max", "expected_budget"),
    [
        (Reasoning(effort="low"), None, 8192, 8192, 2048),
        (Reasoning(effort="medium"), None, 4096, 4096 + 8192, 8192),
        (Reasoning(effort="high"), None, 16384, 16384 + 16384, 16384),
        (Reasoning(effort="minimal"), 20000, 4096, 20000, 1024),
        (Reasoning(budget_tokens=3000), 5000, 4096, 5000, 3000),
        (Reasoning(budget_tokens=100), 5000, 4096, 5000, 1024),
        (Reasoning(budget_tokens=100), None, 4096, 4096, 1024),
        (Reasoning(effort="high"), 6000, 4096, 6000, 5999),
        (Reasoning(effort="none"), None, 4096, 4096, None),
        (Reasoning(budget_tokens=0, effort="high"), None, 4096, 4096, None),
        (Reasoning(), 700, 4096, 700, None),
    ],
)
def test_thinking_budget_and_max_tokens(
    reasoning: Reasoning,
    max_tokens: int | None,
    default: int,
    expected_max: int,
    expected_budget: int | None,
) -> None:
    body = encode(request_of(reasoning=reasoning, max_tokens=max_tokens), default=default)
    assert body["max_tokens"] == expected_max
    if expected_budget is None:
        assert "thinking" not in body
    else:
        assert body["thinking"] == {"type": "enabled", "budget_tokens": expected_budget}
        assert body["max_tokens"] > expected_budget


def test_a_tool_loop_without_its_thinking_block_continues_without_thinking() -> None:
    loop = (
        user(TextBlock("weather?")),
        assistant(ToolCallBlock("call_1", "w", '{"city":"Paris"}')),
        user(ToolResultBlock("call_1", (TextBlock("18C"),))),
    )
    body = encode(request_of(*loop, reasoning=Reasoning(effort="high"), temperature=0.3))
    assert "thinking" not in body
    assert body["temperature"] == 0.3


def test_a_tool_loop_with_its_signed_thinking_block_keeps_thinking() -> None:
    loop = (
        user(TextBlock("weather?")),
        assistant(ThinkingBlock("call it", "sig"), ToolCallBlock("call_1", "w", "{}")),
        user(ToolResultBlock("call_1", (TextBlock("18C"),))),
    )
    body = encode(request_of(*loop, reasoning=Reasoning(effort="low")))
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}


def test_an_earlier_tool_loop_does_not_turn_thinking_off() -> None:
    history = (
        user(TextBlock("weather?")),
        assistant(ToolCallBlock("call_1", "w", "{}")),
        user(ToolResultBlock("call_1", (TextBlock("18C"),))),
        assistant(TextBlock("It is 18C.")),
        user(TextBlock("thanks; and Rome?")),
    )
    body = encode(request_of(*history, reasoning=Reasoning(effort="low")))
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}


@pytest.mark.parametrize(
    ("reasoning", "max_tokens"),
    [
        (Reasoning(budget_tokens=4096), 4096),  # a stated budget is never shrunk
        (Reasoning(budget_tokens=100), 1024),  # raised to the minimum, then too large
        (Reasoning(effort="low"), 1024),  # no room for even the minimum budget
    ],
)
def test_max_tokens_too_small_for_thinking_is_refused(
    reasoning: Reasoning, max_tokens: int
) -> None:
    with pytest.raises(UnsupportedError) as caught:
        encode(request_of(reasoning=reasoning, max_tokens=max_tokens))
    assert caught.value.param == "max_tokens"


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"temperature": 1.5}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": 0.5, "reasoning": Reasoning(effort="low")}, "temperature"),
        ({"top_k": 5, "reasoning": Reasoning(effort="low")}, "top_k"),
        ({"top_p": 0.9, "reasoning": Reasoning(effort="low")}, "top_p"),
        ({"response_format": ResponseFormat(kind="json_object")}, "response_format"),
        (
            {
                "tools": (Tool("w", SCHEMA),),
                "tool_choice": ToolChoice("any"),
                "reasoning": Reasoning(effort="low"),
            },
            "tool_choice",
        ),
        (
            {
                "tools": (Tool("w", SCHEMA),),
                "tool_choice": ToolChoice("tool", "w"),
                "reasoning": Reasoning(budget_tokens=2000),
            },
            "tool_choice",
        ),
    ],
)
def test_what_anthropic_cannot_do_is_refused(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedError) as caught:
        encode(request_of(**fields))
    assert caught.value.param == param


def test_json_object_refusal_suggests_json_schema() -> None:
    with pytest.raises(UnsupportedError, match="json_schema"):
        encode(request_of(response_format=ResponseFormat(kind="json_object")))


def test_sampling_allowed_with_thinking() -> None:
    body = encode(request_of(temperature=1.0, top_p=0.95, reasoning=Reasoning(effort="low")))
    assert (body["temperature"], body["top_p"]) == (1.0, 0.95)


def test_sampling_stop_user_stream_and_format() -> None:
    request = request_of(
        temperature=0.2,
        top_p=0.5,
        top_k=10,
        stop=("END",),
        user="user-7",
        stream=True,
        include_usage=True,
        response_format=ResponseFormat(
            kind="json_schema", schema=SCHEMA, name="weather", strict=True
        ),
    )
    body = encode(request)
    assert (body["temperature"], body["top_p"], body["top_k"]) == (0.2, 0.5, 10)
    assert body["stop_sequences"] == ["END"]
    assert body["metadata"] == {"user_id": "user-7"}
    assert body["stream"] is True
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        (None, None, None),
        (ToolChoice("auto"), None, {"type": "auto"}),
        (ToolChoice("any"), None, {"type": "any"}),
        (ToolChoice("tool", "w"), None, {"type": "tool", "name": "w"}),
        (ToolChoice("none"), None, {"type": "none"}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        (ToolChoice("any"), False, {"type": "any", "disable_parallel_tool_use": True}),
        (
            ToolChoice("tool", "w"),
            False,
            {"type": "tool", "name": "w", "disable_parallel_tool_use": True},
        ),
        (ToolChoice("none"), False, {"type": "none"}),
        (None, True, None),
    ],
)
def test_tool_choice_and_parallel_calls(
    choice: ToolChoice | None, parallel: bool | None, expected: dict[str, object] | None
) -> None:
    request = request_of(
        tools=(Tool("w", SCHEMA, description="weather", strict=True),),
        tool_choice=choice,
        parallel_tool_calls=parallel,
    )
    body = encode(request)
    assert body["tools"] == [
        {"name": "w", "input_schema": SCHEMA, "description": "weather", "strict": True}
    ]
    assert body.get("tool_choice") == expected


def test_without_tools_there_is_no_tool_choice() -> None:
    body = encode(request_of(tool_choice=ToolChoice("auto"), parallel_tool_calls=False))
    assert "tool_choice" not in body
    assert "tools" not in body


def test_forcing_a_tool_without_tools_is_invalid() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        encode(request_of(tool_choice=ToolChoice("any")))
    assert caught.value.param == "tool_choice"


def test_a_tool_without_parameters_gets_an_empty_object_schema() -> None:
    body = encode(request_of(tools=(Tool("now", {}),)))
    assert body["tools"] == [{"name": "now", "input_schema": {"type": "object", "properties": {}}}]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-3-haiku-20240307", 4096),
        ("claude-3-opus-20240229", 4096),
        ("claude-3-5-sonnet-20241022", 8192),
        ("claude-3-5-haiku-latest", 8192),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", 8192),
        ("claude-3-7-sonnet-20250219", 16384),
        ("claude-sonnet-4-20250514", 16384),
        ("claude-opus-4@20250514", 16384),
        ("us.anthropic.claude-opus-4-1-20250805-v1:0", 16384),
        ("claude-sonnet-4-5", 16384),
        ("claude-opus-5", 16384),
        ("claude-2.1", 4096),
        ("claude-instant-1.2", 4096),
        ("some-other-model", 4096),
    ],
)
def test_default_max_tokens_table(model: str, expected: int) -> None:
    assert default_max_tokens(model) == expected
