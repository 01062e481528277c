"""Canonical requests to Gemini generateContent bodies (WIRE-FORMATS 5.2, 6.1)."""

from __future__ import annotations

import pytest
from google.genai import types

from dome.errors import InvalidRequestError, UnsupportedError
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
from dome.wire.gemini import encode_generate_content

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _user(*blocks: object) -> Message:
    return Message("user", tuple(blocks))  # type: ignore[arg-type]


def _request(*messages: Message, **fields: object) -> Request:
    return Request("gemini-2.5-flash", messages, **fields)  # type: ignore[arg-type]


def test_text_turns_and_system_instruction() -> None:
    body = encode_generate_content(
        _request(
            Message("system", (TextBlock("Be brief."),)),
            _user(TextBlock("Hi")),
            Message("assistant", (TextBlock("Hello"),)),
            _user(TextBlock("Weather?")),
        )
    )

    assert body == {
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Hello"}]},
            {"role": "user", "parts": [{"text": "Weather?"}]},
        ],
    }
    assert "model" not in body  # the model is in the URL path


def test_consecutive_turns_of_one_role_merge() -> None:
    body = encode_generate_content(_request(_user(TextBlock("a")), _user(TextBlock("b"))))

    assert body["contents"] == [{"role": "user", "parts": [{"text": "a"}, {"text": "b"}]}]


def test_images_inline_and_by_url() -> None:
    body = encode_generate_content(
        _request(
            _user(
                ImageBlock(data="iVBOR", media_type="image/png"),
                ImageBlock(url="https://example.com/cat.jpg?size=2", detail="high"),
            )
        )
    )

    assert body["contents"] == [
        {
            "role": "user",
            "parts": [
                {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}},
                {
                    "fileData": {
                        "mimeType": "image/jpeg",
                        "fileUri": "https://example.com/cat.jpg?size=2",
                    }
                },
            ],
        }
    ]


def test_an_image_url_without_an_image_type_is_refused() -> None:
    with pytest.raises(UnsupportedError) as caught:
        encode_generate_content(_request(_user(ImageBlock(url="https://example.com/picture"))))

    assert caught.value.param == "messages"


def test_tool_loop_maps_ids_to_names_and_orders_repeated_calls() -> None:
    # Two calls of one function: Gemini matches by name, then by order, so the
    # responses go in the order of the calls even when the client sent them reversed.
    calls = Message(
        "assistant",
        (
            ToolCallBlock("call_a", "get_weather", '{"city":"Paris"}'),
            ToolCallBlock("call_b", "get_weather", '{"city":"Rome"}'),
        ),
    )
    results = _user(
        ToolResultBlock("call_b", (TextBlock("21C"),)),
        ToolResultBlock("call_a", (TextBlock("18"), TextBlock("C")), is_error=False),
        TextBlock("and tomorrow?"),
    )

    body = encode_generate_content(_request(_user(TextBlock("Weather?")), calls, results))

    contents = body["contents"]
    assert isinstance(contents, list)
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
        ],
    }
    assert contents[2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"output": "18C"}}},
            {"functionResponse": {"name": "get_weather", "response": {"output": "21C"}}},
            {"text": "and tomorrow?"},
        ],
    }


def test_failed_tool_result_goes_in_error() -> None:
    body = encode_generate_content(
        _request(
            Message("assistant", (ToolCallBlock("c1", "f", ""),)),
            _user(ToolResultBlock("c1", (TextBlock("boom"),), is_error=True)),
        )
    )

    assert body["contents"] == [
        {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "f", "response": {"error": "boom"}}}],
        },
    ]


def test_a_turn_of_redacted_thinking_only_is_dropped() -> None:
    body = encode_generate_content(
        _request(
            _user(TextBlock("a")),
            Message("assistant", (RedactedThinkingBlock("opaque"),)),
            _user(TextBlock("b")),
        )
    )

    assert body["contents"] == [{"role": "user", "parts": [{"text": "a"}, {"text": "b"}]}]


def test_a_request_of_system_text_only_is_invalid() -> None:
    with pytest.raises(InvalidRequestError):
        encode_generate_content(_request(Message("system", (TextBlock("Be brief."),))))


def test_a_result_for_an_unknown_call_is_invalid() -> None:
    with pytest.raises(InvalidRequestError):
        encode_generate_content(_request(_user(ToolResultBlock("nope", (TextBlock("x"),)))))


def test_image_tool_results_and_non_object_arguments_are_refused() -> None:
    call = Message("assistant", (ToolCallBlock("c1", "f", "[1]"),))
    with pytest.raises(UnsupportedError):
        encode_generate_content(_request(call))
    image_result = _user(ToolResultBlock("c1", (ImageBlock(data="AA", media_type="image/png"),)))
    with pytest.raises(UnsupportedError):
        encode_generate_content(
            _request(Message("assistant", (ToolCallBlock("c1", "f", "{}"),)), image_result)
        )


def test_thinking_and_signatures_go_back_on_their_parts() -> None:
    body = encode_generate_content(
        _request(
            Message(
                "assistant",
                (
                    ThinkingBlock("pondering", "sig-thought"),
                    ThinkingBlock("", "sig-call"),
                    ToolCallBlock("c1", "f", "{}"),
                    RedactedThinkingBlock("opaque"),
                    ThinkingBlock("", "sig-end"),
                ),
            )
        )
    )

    assert body["contents"] == [
        {
            "role": "model",
            "parts": [
                {"text": "pondering", "thought": True, "thoughtSignature": "sig-thought"},
                {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "sig-call"},
                {"text": "", "thoughtSignature": "sig-end"},
            ],
        }
    ]


def test_tools_choice_and_generation_config() -> None:
    body = encode_generate_content(
        _request(
            _user(TextBlock("x")),
            max_tokens=100,
            temperature=1.5,
            top_p=0.9,
            top_k=40,
            stop=("END",),
            tools=(Tool("get_weather", WEATHER, description="Weather"),),
            tool_choice=ToolChoice("tool", "get_weather"),
            response_format=ResponseFormat("json_schema", schema=WEATHER),
            reasoning=Reasoning(budget_tokens=2048),
            user="someone",
        )
    )

    assert body["tools"] == [
        {
            "functionDeclarations": [
                {"name": "get_weather", "description": "Weather", "parametersJsonSchema": WEATHER}
            ]
        }
    ]
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
    }
    assert body["generationConfig"] == {
        "maxOutputTokens": 100,
        "temperature": 1.5,
        "topP": 0.9,
        "topK": 40,
        "stopSequences": ["END"],
        "responseMimeType": "application/json",
        "responseJsonSchema": WEATHER,
        "thinkingConfig": {"thinkingBudget": 2048, "includeThoughts": True},
    }
    assert "labels" not in body


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        (ToolChoice("auto"), {"mode": "AUTO"}),
        (ToolChoice("any"), {"mode": "ANY"}),
        (ToolChoice("none"), {"mode": "NONE"}),
    ],
)
def test_tool_choice_modes(choice: ToolChoice, config: dict[str, object]) -> None:
    body = encode_generate_content(_request(_user(TextBlock("x")), tool_choice=choice))

    assert body["toolConfig"] == {"functionCallingConfig": config}


@pytest.mark.parametrize(
    ("reasoning", "config"),
    [
        (Reasoning(effort="low"), {"thinkingBudget": 2048, "includeThoughts": True}),
        (Reasoning(effort="none"), {"thinkingBudget": 0}),
        (Reasoning(), {"includeThoughts": True}),
    ],
)
def test_reasoning_to_thinking_config(reasoning: Reasoning, config: dict[str, object]) -> None:
    body = encode_generate_content(_request(_user(TextBlock("x")), reasoning=reasoning))

    assert body["generationConfig"] == {"thinkingConfig": config}


def test_json_object_output_without_schema() -> None:
    body = encode_generate_content(
        _request(_user(TextBlock("x")), response_format=ResponseFormat("json_object"))
    )

    assert body["generationConfig"] == {"responseMimeType": "application/json"}


def test_parallel_tool_calls_off_is_refused() -> None:
    with pytest.raises(UnsupportedError) as caught:
        encode_generate_content(_request(_user(TextBlock("x")), parallel_tool_calls=False))

    assert caught.value.param == "parallel_tool_calls"


def test_bodies_validate_against_the_google_genai_types() -> None:
    # google-genai's models forbid unknown fields: a misspelled key fails here.
    body = encode_generate_content(
        _request(
            Message("system", (TextBlock("Be brief."),)),
            _user(TextBlock("x"), ImageBlock(data="iVBORw==", media_type="image/png")),
            Message(
                "assistant",
                (ThinkingBlock("hm", "c2ln"), ToolCallBlock("c1", "get_weather", "{}")),
            ),
            _user(ToolResultBlock("c1", (TextBlock("18C"),))),
            max_tokens=10,
            stop=("END",),
            tools=(Tool("get_weather", WEATHER, description="Weather"),),
            tool_choice=ToolChoice("tool", "get_weather"),
            response_format=ResponseFormat("json_schema", schema=WEATHER),
            reasoning=Reasoning(effort="high"),
        )
    )

    assert set(body) == {
        "contents",
        "systemInstruction",
        "tools",
        "toolConfig",
        "generationConfig",
    }
    contents = body["contents"]
    tools = body["tools"]
    assert isinstance(contents, list)
    assert isinstance(tools, list)
    for content in [*contents, body["systemInstruction"]]:
        types.Content.model_validate(content)
    for tool in tools:
        types.Tool.model_validate(tool)
    types.ToolConfig.model_validate(body["toolConfig"])
    config = types.GenerationConfig.model_validate(body["generationConfig"])
    assert config.thinking_config == types.ThinkingConfig(
        thinking_budget=16384, include_thoughts=True
    )
