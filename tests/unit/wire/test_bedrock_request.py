"""The canonical request to a Converse body: structure, tools, images, reasoning, refusals."""

from __future__ import annotations

import json

import pytest

from dome.errors import InvalidRequestError, UnsupportedError
from dome.wire.bedrock import bedrock_tool_id, encode_converse_request
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

CLAUDE = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
NOVA = "amazon.nova-pro-v1:0"
WEATHER = Tool(
    "get_weather",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    description="Weather of a city",
)


def _user(text: str) -> Message:
    return Message("user", (TextBlock(text),))


def _request(*messages: Message, **fields: object) -> Request:
    return Request(model="agent-model", messages=messages or (_user("hi"),), **fields)  # type: ignore[arg-type]


def test_spec_example_shape() -> None:
    """The request of WIRE-FORMATS 4.2, from canonical form."""
    request = _request(
        Message("system", (TextBlock("be brief"),)),
        Message(
            "user",
            (TextBlock("Weather in Paris?"), ImageBlock(data="iVBORw==", media_type="image/png")),
        ),
        Message(
            "assistant", (ToolCallBlock("tooluse_kZJMlvQm", "get_weather", '{"city":"Paris"}'),)
        ),
        Message("user", (ToolResultBlock("tooluse_kZJMlvQm", (TextBlock("18°C"),)),)),
        max_tokens=1024,
        temperature=0.5,
        top_p=0.9,
        stop=("\n\nHuman:",),
        tools=(WEATHER,),
        tool_choice=ToolChoice("auto"),
    )

    body = encode_converse_request(request, CLAUDE)

    assert body == {
        "system": [{"text": "be brief"}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "Weather in Paris?"},
                    {"image": {"format": "png", "source": {"bytes": "iVBORw=="}}},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {
                        "toolUse": {
                            "toolUseId": "tooluse_kZJMlvQm",
                            "name": "get_weather",
                            "input": {"city": "Paris"},
                        }
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "toolResult": {
                            "toolUseId": "tooluse_kZJMlvQm",
                            "content": [{"text": "18°C"}],
                            "status": "success",
                        }
                    }
                ],
            },
        ],
        "inferenceConfig": {
            "maxTokens": 1024,
            "temperature": 0.5,
            "topP": 0.9,
            "stopSequences": ["\n\nHuman:"],
        },
        "toolConfig": {
            "tools": [
                {
                    "toolSpec": {
                        "name": "get_weather",
                        "description": "Weather of a city",
                        "inputSchema": {"json": dict(WEATHER.parameters)},
                    }
                }
            ],
            "toolChoice": {"auto": {}},
        },
    }
    assert "model" not in body
    assert "stream" not in body


def test_same_role_turns_merge_with_tool_results_first() -> None:
    request = _request(
        _user("a"),
        Message(
            "assistant",
            (ToolCallBlock("c1", "get_weather", ""), ToolCallBlock("c2", "get_weather", " ")),
        ),
        Message("user", (ToolResultBlock("c1", (), is_error=True),)),
        Message("user", (TextBlock("and?"), ToolResultBlock("c2", (TextBlock("ok"),)))),
        tools=(WEATHER,),
    )

    messages = encode_converse_request(request, NOVA)["messages"]

    assert isinstance(messages, list)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert [c["toolUse"]["input"] for c in messages[1]["content"]] == [{}, {}]
    assert messages[2]["content"] == [
        {"toolResult": {"toolUseId": "c1", "content": [{"text": ""}], "status": "error"}},
        {"toolResult": {"toolUseId": "c2", "content": [{"text": "ok"}], "status": "success"}},
        {"text": "and?"},
    ]


def test_tool_choice_modes() -> None:
    any_body = encode_converse_request(
        _request(tools=(WEATHER,), tool_choice=ToolChoice("any")), NOVA
    )
    named = encode_converse_request(
        _request(tools=(WEATHER,), tool_choice=ToolChoice("tool", "get_weather")), NOVA
    )
    none = encode_converse_request(_request(tools=(WEATHER,), tool_choice=ToolChoice("none")), NOVA)

    assert any_body["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": "get_weather",
                    "description": "Weather of a city",
                    "inputSchema": {"json": dict(WEATHER.parameters)},
                }
            }
        ],
        "toolChoice": {"any": {}},
    }
    assert isinstance(named["toolConfig"], dict)
    assert named["toolConfig"]["toolChoice"] == {"tool": {"name": "get_weather"}}
    assert "toolConfig" not in none


def test_tool_without_parameters_gets_an_empty_object_schema() -> None:
    body = encode_converse_request(_request(tools=(Tool("now", {}),)), NOVA)

    assert body["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": "now",
                    "inputSchema": {"json": {"type": "object", "properties": {}}},
                }
            }
        ]
    }


def test_tool_ids_outside_the_charset_are_rewritten_consistently() -> None:
    odd = "functions.get weather/3"
    request = _request(
        _user("a"),
        Message("assistant", (ToolCallBlock(odd, "get_weather", "{}"),)),
        Message("user", (ToolResultBlock(odd, (TextBlock("x"),)),)),
        tools=(WEATHER,),
    )

    messages = encode_converse_request(request, NOVA)["messages"]

    assert isinstance(messages, list)
    call_id = messages[1]["content"][0]["toolUse"]["toolUseId"]
    assert call_id == messages[2]["content"][0]["toolResult"]["toolUseId"] == bedrock_tool_id(odd)
    assert call_id.startswith("functions.get_weather_3_")
    assert bedrock_tool_id(call_id) == call_id
    assert len(bedrock_tool_id("x" * 100)) <= 64


def test_data_url_images_are_unpacked_and_other_urls_refused() -> None:
    data_url = ImageBlock(url="data:image/jpeg;base64,/9j/4AAQ")
    body = encode_converse_request(_request(Message("user", (data_url,))), NOVA)

    assert body["messages"] == [
        {
            "role": "user",
            "content": [{"image": {"format": "jpeg", "source": {"bytes": "/9j/4AAQ"}}}],
        }
    ]
    with pytest.raises(UnsupportedError, match="not by URL") as caught:
        encode_converse_request(
            _request(Message("user", (ImageBlock(url="https://x/y.png"),))), NOVA
        )
    assert caught.value.param == "messages.0.content.0"
    with pytest.raises(UnsupportedError, match="image/bmp"):
        encode_converse_request(
            _request(Message("user", (ImageBlock(data="AA", media_type="image/bmp"),))), NOVA
        )


def test_thinking_history_keeps_only_signed_blocks() -> None:
    request = _request(
        _user("a"),
        Message(
            "assistant",
            (
                ThinkingBlock("mine", "sig"),
                ThinkingBlock("other provider's"),
                RedactedThinkingBlock("ZZ"),
                TextBlock("b"),
            ),
        ),
        _user("c"),
    )

    messages = encode_converse_request(request, CLAUDE)["messages"]

    assert isinstance(messages, list)
    assert messages[1]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "mine", "signature": "sig"}}},
        {"reasoningContent": {"redactedContent": "ZZ"}},
        {"text": "b"},
    ]


def test_reasoning_for_claude_goes_to_additional_fields() -> None:
    body = encode_converse_request(
        _request(reasoning=Reasoning(effort="low"), max_tokens=8000), CLAUDE
    )

    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    }
    assert body["inferenceConfig"] == {"maxTokens": 8000}


def test_reasoning_without_max_tokens_gets_room_for_the_budget() -> None:
    body = encode_converse_request(_request(reasoning=Reasoning(budget_tokens=20000)), CLAUDE)

    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 20000}
    }
    assert isinstance(body["inferenceConfig"], dict)
    assert body["inferenceConfig"]["maxTokens"] > 20000


def test_top_k_for_claude_and_effort_none_asks_nothing() -> None:
    body = encode_converse_request(_request(top_k=40, reasoning=Reasoning(effort="none")), CLAUDE)

    assert body["additionalModelRequestFields"] == {"top_k": 40}
    assert "inferenceConfig" not in body


def test_json_schema_output_is_carried_as_schema_text() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    body = encode_converse_request(
        _request(response_format=ResponseFormat("json_schema", schema, name="thing")), NOVA
    )

    assert body["outputConfig"] == {
        "textFormat": {
            "type": "json_schema",
            "structure": {
                "jsonSchema": {"schema": json.dumps(schema, separators=(",", ":")), "name": "thing"}
            },
        }
    }


@pytest.mark.parametrize(
    ("request_", "model", "param"),
    [
        (_request(temperature=1.5), NOVA, "temperature"),
        (_request(reasoning=Reasoning(effort="high")), NOVA, "reasoning_effort"),
        (_request(top_k=5), NOVA, "top_k"),
        (_request(reasoning=Reasoning(effort="high"), temperature=0.2), CLAUDE, "temperature"),
        (_request(reasoning=Reasoning(budget_tokens=4000), max_tokens=2000), CLAUDE, "max_tokens"),
        (
            _request(
                reasoning=Reasoning(effort="low"), tools=(WEATHER,), tool_choice=ToolChoice("any")
            ),
            CLAUDE,
            "tool_choice",
        ),
        (_request(response_format=ResponseFormat("json_object")), NOVA, "response_format"),
        (_request(tools=(WEATHER,), parallel_tool_calls=False), NOVA, "parallel_tool_calls"),
        (
            _request(
                _user("a"),
                Message("assistant", (ToolCallBlock("c1", "get_weather", "{}"),)),
                Message("user", (ToolResultBlock("c1", (TextBlock("x"),)),)),
            ),
            NOVA,
            "tools",
        ),
        (
            _request(
                _user("a"),
                Message("assistant", (ToolCallBlock("c1", "get_weather", "{}"),)),
                Message("user", (ToolResultBlock("c1", (TextBlock("x"),)),)),
                tools=(WEATHER,),
                tool_choice=ToolChoice("none"),
            ),
            NOVA,
            "tool_choice",
        ),
        (
            _request(
                Message("system", (ImageBlock(data="AA", media_type="image/png"),)), _user("x")
            ),
            NOVA,
            "messages.0.content.0",
        ),
    ],
)
def test_what_converse_cannot_carry_is_refused(request_: Request, model: str, param: str) -> None:
    with pytest.raises(UnsupportedError) as caught:
        encode_converse_request(request_, model)

    assert caught.value.param == param


@pytest.mark.parametrize(
    ("request_", "param"),
    [
        (_request(Message("system", (TextBlock("only system"),))), "messages"),
        (
            _request(
                _user("a"),
                Message("assistant", (ToolCallBlock("c", "f", "[1]"),)),
                tools=(WEATHER,),
            ),
            "messages.1.content.0.arguments",
        ),
        (
            _request(
                _user("a"),
                Message("assistant", (ToolCallBlock("c", "f", "{nope"),)),
                tools=(WEATHER,),
            ),
            "messages.1.content.0.arguments",
        ),
        (_request(tool_choice=ToolChoice("any")), "tool_choice"),
    ],
)
def test_invalid_requests_name_the_field(request_: Request, param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        encode_converse_request(request_, NOVA)

    assert caught.value.param == param
