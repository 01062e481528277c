"""Anthropic Messages requests: agent body -> canonical, and canonical -> upstream body."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
import pydantic
import pytest
from anthropic.types.message_create_params import (
    MessageCreateParamsNonStreaming,
    MessageCreateParamsStreaming,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from dome.errors import InvalidRequestError, UnsupportedError
from dome.wire.anthropic import (
    ACCEPTED_NOT_CARRIED,
    UNSUPPORTED_BLOCK_TYPES,
    UNSUPPORTED_FIELDS,
    anthropic_tool_id,
    decode_messages_request,
    default_max_tokens,
    encode_messages_request,
)
from dome.wire.canonical import (
    ImageBlock,
    Message,
    Reasoning,
    RedactedThinkingBlock,
    Request,
    RequestBlock,
    ResponseFormat,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCallBlock,
    ToolChoice,
    ToolResultBlock,
)

NON_STREAMING = pydantic.TypeAdapter[MessageCreateParamsNonStreaming](
    MessageCreateParamsNonStreaming
)
STREAMING = pydantic.TypeAdapter[MessageCreateParamsStreaming](MessageCreateParamsStreaming)
TOOL_ID = re.compile(r"[a-zA-Z0-9_-]+")
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
PNG = "iVBORw0KGgo="


def _body(**fields: object) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-test",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hi"}],
    }
    body.update(fields)
    return body


def _user(*blocks: RequestBlock) -> Message:
    return Message(role="user", content=blocks)


def _assistant(*blocks: RequestBlock) -> Message:
    return Message(role="assistant", content=blocks)


def _request(*messages: Message, **fields: Any) -> Request:
    return Request("claude-test", messages or (_user(TextBlock("hi")),), **fields)


def _consume(value: object) -> object:
    """Run pydantic's lazy validators over every iterable the SDK types declare."""
    if isinstance(value, Iterator):
        return [_consume(item) for item in value]
    if isinstance(value, dict):
        return {key: _consume(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_consume(item) for item in value]
    return value


def _sdk_validate(body: dict[str, object]) -> None:
    """The Anthropic SDK's own request types accept the body (validation raises)."""
    adapter: pydantic.TypeAdapter[Any] = STREAMING if body.get("stream") else NON_STREAMING
    _consume(adapter.validate_python(orjson.loads(orjson.dumps(body))))


def _encode(request: Request, default: int = 4096) -> dict[str, Any]:
    body = encode_messages_request(request, "claude-sonnet-4-5", default_max_tokens=default)
    _sdk_validate(body)
    return orjson.loads(orjson.dumps(body))  # type: ignore[no-any-return]


# decode: agent body -> canonical


def test_minimal_body() -> None:
    request = decode_messages_request(_body())
    assert request == Request(
        model="claude-test", messages=(_user(TextBlock("hi")),), max_tokens=1024
    )


@pytest.mark.parametrize(
    "system",
    [
        "be brief",
        [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
    ],
)
def test_system_becomes_one_leading_system_turn(system: object) -> None:
    request = decode_messages_request(_body(system=system))
    assert request.messages[0] == Message(role="system", content=(TextBlock("be brief"),))
    assert request.messages[1] == _user(TextBlock("hi"))


def test_system_blocks_stay_separate_blocks() -> None:
    system = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    request = decode_messages_request(_body(system=system))
    assert request.messages[0].content == (TextBlock("a"), TextBlock("b"))


@pytest.mark.parametrize("system", ["", []])
def test_empty_system_adds_no_turn(system: object) -> None:
    assert decode_messages_request(_body(system=system)).messages == (_user(TextBlock("hi")),)


def test_multi_turn_with_string_and_block_content() -> None:
    messages = [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": [{"type": "text", "text": "hi there"}]},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    ]
    request = decode_messages_request(_body(messages=messages))
    assert request.messages == (
        _user(TextBlock("hello")),
        _assistant(TextBlock("hi there")),
        _user(TextBlock("a"), TextBlock("b")),
    )


def test_system_turn_inside_messages_stays_where_it_stands() -> None:
    messages = [
        {"role": "user", "content": "a"},
        {"role": "system", "content": "now be terse"},
        {"role": "user", "content": "b"},
    ]
    request = decode_messages_request(_body(messages=messages))
    assert request.messages[1] == Message(role="system", content=(TextBlock("now be terse"),))


def test_images_base64_and_url() -> None:
    content = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.test/cat.jpg"}},
    ]
    request = decode_messages_request(_body(messages=[{"role": "user", "content": content}]))
    assert request.messages[0].content == (
        ImageBlock(data=PNG, media_type="image/png"),
        ImageBlock(url="https://example.test/cat.jpg"),
    )


def test_tool_use_and_tool_results() -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "call it", "signature": "sig"},
                {"type": "redacted_thinking", "data": "opaque"},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "w",
                    "input": {"city": "Paris", "n": 1},
                },
                {"type": "tool_use", "id": "toolu_2", "name": "w", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [
                        {"type": "text", "text": "failed"},
                        {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
                    ],
                    "is_error": True,
                },
                {"type": "tool_result", "tool_use_id": "toolu_3"},
            ],
        },
    ]
    request = decode_messages_request(_body(messages=messages))
    assert request.messages[1] == _assistant(
        ThinkingBlock("call it", "sig"),
        RedactedThinkingBlock("opaque"),
        ToolCallBlock("toolu_1", "w", '{"city":"Paris","n":1}'),
        ToolCallBlock("toolu_2", "w", "{}"),
    )
    assert request.messages[2] == _user(
        ToolResultBlock("toolu_1", (TextBlock("18C"),)),
        ToolResultBlock(
            "toolu_2", (TextBlock("failed"), ImageBlock(url="https://x.test/a.png")), is_error=True
        ),
        ToolResultBlock("toolu_3", ()),
    )


def test_tools_and_sampling_fields() -> None:
    tools = [
        {"name": "w", "description": "weather", "input_schema": SCHEMA, "strict": True},
        {
            "type": "custom",
            "name": "now",
            "input_schema": {"type": "object"},
            "cache_control": {"type": "ephemeral"},
        },
    ]
    body = _body(
        tools=tools,
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        stop_sequences=["END", "STOP"],
        stream=True,
        metadata={"user_id": "user-7"},
    )
    request = decode_messages_request(body)
    assert request.tools == (
        Tool("w", SCHEMA, description="weather", strict=True),
        Tool("now", {"type": "object"}),
    )
    assert (request.temperature, request.top_p, request.top_k) == (0.5, 0.9, 40)
    assert request.stop == ("END", "STOP")
    assert request.stream is True
    assert request.user == "user-7"


@pytest.mark.parametrize(
    ("tool_choice", "expected", "parallel"),
    [
        ({"type": "auto"}, ToolChoice("auto"), None),
        ({"type": "any"}, ToolChoice("any"), None),
        ({"type": "tool", "name": "w"}, ToolChoice("tool", "w"), None),
        ({"type": "none"}, ToolChoice("none"), None),
        ({"type": "auto", "disable_parallel_tool_use": True}, ToolChoice("auto"), False),
        (
            {"type": "tool", "name": "w", "disable_parallel_tool_use": True},
            ToolChoice("tool", "w"),
            False,
        ),
        ({"type": "any", "disable_parallel_tool_use": False}, ToolChoice("any"), None),
    ],
)
def test_tool_choice(
    tool_choice: dict[str, object], expected: ToolChoice, parallel: bool | None
) -> None:
    tools = [{"name": "w", "input_schema": SCHEMA}]
    request = decode_messages_request(_body(tools=tools, tool_choice=tool_choice))
    assert request.tool_choice == expected
    assert request.parallel_tool_calls is parallel


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"thinking": {"type": "enabled", "budget_tokens": 2048}}, Reasoning(budget_tokens=2048)),
        (
            {"thinking": {"type": "enabled", "budget_tokens": 2048, "display": "omitted"}},
            Reasoning(budget_tokens=2048),
        ),
        ({"thinking": {"type": "disabled"}}, None),
        ({"thinking": {"type": "adaptive"}}, Reasoning(effort="high")),
        (
            {"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}},
            Reasoning(effort="low"),
        ),
        ({"output_config": {"effort": "medium"}}, Reasoning(effort="medium")),
        ({"output_config": {"effort": "max"}}, Reasoning(effort="xhigh")),
        (
            {
                "thinking": {"type": "enabled", "budget_tokens": 1024},
                "output_config": {"effort": "high"},
            },
            Reasoning(effort="high", budget_tokens=1024),
        ),
        ({"thinking": {"type": "disabled"}, "output_config": {"effort": "high"}}, None),
        ({}, None),
    ],
)
def test_thinking_and_effort(fields: dict[str, object], expected: Reasoning | None) -> None:
    assert decode_messages_request(_body(max_tokens=4096, **fields)).reasoning == expected


def test_output_format_json_schema() -> None:
    output_config = {"format": {"type": "json_schema", "schema": SCHEMA}}
    request = decode_messages_request(_body(output_config=output_config))
    assert request.response_format == ResponseFormat(kind="json_schema", schema=SCHEMA)


@pytest.mark.parametrize("field", sorted(ACCEPTED_NOT_CARRIED))
def test_accepted_fields_are_not_carried(field: str) -> None:
    values = {
        "cache_control": {"type": "ephemeral"},
        "service_tier": "auto",
        "speed": "fast",
        "diagnostics": {"previous_message_id": "msg_1"},
    }
    assert decode_messages_request(_body(**{field: values[field]})) == decode_messages_request(
        _body()
    )


def test_null_false_and_empty_unsupported_fields_state_nothing() -> None:
    body = _body(container=None, mcp_servers=[], context_management=None, inference_geo=None)
    assert decode_messages_request(body) == decode_messages_request(_body())


def _with_block(block: Mapping[str, object], role: str = "user") -> dict[str, Any]:
    messages = [{"role": "user", "content": "hi"}, {"role": role, "content": [block]}]
    if role == "user":
        messages.insert(1, {"role": "assistant", "content": "ok"})
        return _body(messages=messages)
    return _body(messages=messages)


URL_IMAGE = {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}}
DOCUMENT = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}

UNSUPPORTED: list[tuple[dict[str, Any], str]] = [
    (_body(container="cntr_1"), "container"),
    (_body(mcp_servers=[{"type": "url", "url": "https://mcp.test", "name": "m"}]), "mcp_servers"),
    (_body(context_management={"edits": []}), "context_management"),
    (_body(inference_geo="us"), "inference_geo"),
    (_body(workspace_id="w"), "workspace_id"),
    (_body(brand_new_field={"x": 1}), "brand_new_field"),
    (_body(metadata={"user_id": "u", "trace": "t"}), "metadata.trace"),
    (_body(tools=[{"type": "web_search_20250305", "name": "web_search"}]), "tools.0.type"),
    (_body(tools=[{"type": "bash_20250124", "name": "bash"}]), "tools.0.type"),
    (
        _body(tools=[{"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}]),
        "tools.0.type",
    ),
    (_body(tools=[{"type": "code_execution_20250825", "name": "code_execution"}]), "tools.0.type"),
    (_body(tools=[{"type": "computer_20250124", "name": "computer"}]), "tools.0.type"),
    (
        _body(tools=[{"name": "w", "input_schema": SCHEMA, "input_examples": [{"city": "x"}]}]),
        "tools.0.input_examples",
    ),
    (_body(thinking={"type": "between_tools"}), "thinking.type"),
    (_with_block(DOCUMENT), "messages.2.content.0"),
    (
        _with_block({"type": "search_result", "source": "s", "title": "t", "content": []}),
        "messages.2.content.0",
    ),
    (
        _with_block(
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
            "assistant",
        ),
        "messages.1.content.0",
    ),
    (
        _with_block(
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
            "assistant",
        ),
        "messages.1.content.0",
    ),
    (_with_block({"type": "container_upload", "file_id": "file_1"}), "messages.2.content.0"),
    (
        _with_block(
            {"type": "mcp_tool_use", "id": "m", "name": "n", "server_name": "s", "input": {}},
            "assistant",
        ),
        "messages.1.content.0",
    ),
    (
        _with_block({"type": "text", "text": "x", "citations": [{"type": "char_location"}]}),
        "messages.2.content.0.citations",
    ),
    (
        _with_block({"type": "image", "source": {"type": "file", "file_id": "file_1"}}),
        "messages.2.content.0.source",
    ),
    (
        _with_block({"type": "tool_result", "tool_use_id": "t", "content": [DOCUMENT]}),
        "messages.2.content.0.content.0",
    ),
    (
        _with_block(
            {
                "type": "tool_use",
                "id": "t",
                "name": "n",
                "input": {},
                "caller": {"type": "code_execution_20250825", "tool_id": "x"},
            },
            "assistant",
        ),
        "messages.1.content.0.caller",
    ),
    (_with_block({"type": "text", "text": "x", "surprise": 1}), "messages.2.content.0.surprise"),
]


@pytest.mark.parametrize(("body", "param"), UNSUPPORTED)
def test_fields_that_cannot_be_carried_are_refused(body: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedError) as caught:
        decode_messages_request(body)
    assert caught.value.param == param
    assert caught.value.message.startswith(f"{param}: ")


def test_the_refusal_lists_name_what_they_refuse() -> None:
    assert {"container", "mcp_servers", "context_management"} <= set(UNSUPPORTED_FIELDS)
    assert {
        "document",
        "search_result",
        "server_tool_use",
        "container_upload",
    } <= UNSUPPORTED_BLOCK_TYPES


MALFORMED: list[tuple[dict[str, Any], str]] = [
    ({"model": "m", "messages": [{"role": "user", "content": "hi"}]}, "max_tokens"),
    (_body(max_tokens="many"), "max_tokens"),
    (_body(max_tokens=0), "max_tokens"),
    ({"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}, "model"),
    (_body(messages=[]), "messages"),
    (_body(messages="hi"), "messages"),
    (_body(messages=[{"role": "tool", "content": "x"}]), "messages.0.role"),
    (_body(messages=[{"role": "user"}]), "messages.0.content"),
    (_body(messages=[{"role": "user", "content": 5}]), "messages.0.content"),
    (
        _with_block({"type": "image", "source": {"type": "base64", "media_type": "image/png"}}),
        "messages.2.content.0.source.data",
    ),
    (
        _with_block(
            {"type": "image", "source": {"type": "base64", "media_type": "image/tiff", "data": PNG}}
        ),
        "messages.2.content.0.source.media_type",
    ),
    (_with_block({"type": "image", "source": {"type": "url"}}), "messages.2.content.0.source.url"),
    (_with_block({"type": "image", "source": {"type": "ftp"}}), "messages.2.content.0.source.type"),
    (_with_block({"type": "text", "text": 5}), "messages.2.content.0.text"),
    (
        _with_block({"type": "tool_use", "id": "t", "name": "n", "input": [1]}, "assistant"),
        "messages.1.content.0.input",
    ),
    (
        _with_block({"type": "tool_use", "id": "t", "name": "n", "input": {}}),
        "messages.2.content.0.type",
    ),
    (
        _with_block({"type": "tool_result", "tool_use_id": "t"}, "assistant"),
        "messages.1.content.0.type",
    ),
    (
        _with_block({"type": "tool_result", "tool_use_id": "t", "is_error": "yes"}),
        "messages.2.content.0.is_error",
    ),
    (
        _with_block({"type": "thinking", "signature": "s"}, "assistant"),
        "messages.1.content.0.thinking",
    ),
    (_body(system=[{"type": "image", "source": {}}]), "system.0.type"),
    (_body(temperature=1.5), "temperature"),
    (_body(top_p="high"), "top_p"),
    (_body(stop_sequences=["a", 1]), "stop_sequences.1"),
    (_body(tools=[{"name": "w"}]), "tools.0.input_schema"),
    (_body(tool_choice={"type": "required"}), "tool_choice.type"),
    (_body(tool_choice={"type": "tool"}), "tool_choice.name"),
    (_body(thinking={"type": "enabled"}), "thinking.budget_tokens"),
    (_body(thinking={"type": "enabled", "budget_tokens": 512}), "thinking.budget_tokens"),
    (_body(thinking={"type": "enabled", "budget_tokens": 1024}), "thinking.budget_tokens"),
    (_body(thinking={"type": "on"}), "thinking.type"),
    (_body(output_config={"effort": "extreme"}), "output_config.effort"),
    (_body(output_config={"format": {"type": "json_object"}}), "output_config.format.type"),
    (_body(metadata={"user_id": 7}), "metadata.user_id"),
    (_body(stream="yes"), "stream"),
]


@pytest.mark.parametrize(("body", "param"), MALFORMED)
def test_malformed_bodies_name_the_path(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode_messages_request(body)
    assert caught.value.param == param
    assert caught.value.message.startswith(f"{param}: ")


def test_missing_max_tokens_says_field_required() -> None:
    body = _body()
    del body["max_tokens"]
    with pytest.raises(InvalidRequestError, match=r"^max_tokens: field required$"):
        decode_messages_request(body)


# encode: canonical -> Anthropic upstream body


def test_minimal_request_gets_the_default_max_tokens() -> None:
    body = _encode(_request(), default=8192)
    assert body == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 8192,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }


def test_system_turns_are_hoisted_in_order() -> None:
    request = _request(
        Message("system", (TextBlock("first"),)),
        _user(TextBlock("a")),
        Message("system", (TextBlock("second"), TextBlock(""))),
        _assistant(TextBlock("b")),
    )
    body = _encode(request)
    assert body["system"] == [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]


def test_system_turns_hold_text_only() -> None:
    request = _request(
        Message("system", (ImageBlock(url="https://x.test/a.png"),)), _user(TextBlock("a"))
    )
    with pytest.raises(UnsupportedError) as caught:
        _encode(request)
    assert caught.value.param == "messages.0.content.0"


def test_tool_results_of_several_tool_messages_merge_into_one_user_message() -> None:
    request = _request(
        _user(TextBlock("weather in Paris and Rome?")),
        _assistant(
            ToolCallBlock("call_1", "w", '{"city":"Paris"}'),
            ToolCallBlock("call_2", "w", '{"city":"Rome"}'),
        ),
        _user(ToolResultBlock("call_1", (TextBlock("18C"),))),
        _user(ToolResultBlock("call_2", (TextBlock("21C"),))),
        _user(TextBlock("and tomorrow?")),
    )
    messages = _encode(request)["messages"]
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
    request = _request(
        _user(TextBlock("go")),
        _assistant(ToolCallBlock("call_1", "w", "{}")),
        _user(TextBlock("note")),
        _user(ToolResultBlock("call_1", (TextBlock("done"),), is_error=True)),
    )
    last = _encode(request)["messages"][-1]["content"]
    assert [block["type"] for block in last] == ["tool_result", "text"]
    assert last[0]["is_error"] is True


def test_consecutive_assistant_turns_merge_and_empty_turns_vanish() -> None:
    request = _request(
        _user(TextBlock("a")),
        _assistant(TextBlock("b")),
        _user(TextBlock("")),
        _assistant(TextBlock("c"), ThinkingBlock("unsigned thought")),
    )
    messages = _encode(request)["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "b"}, {"type": "text", "text": "c"}],
    }


def test_thinking_blocks_keep_their_signature_and_unsigned_ones_are_dropped() -> None:
    request = _request(
        _user(TextBlock("a")),
        _assistant(
            ThinkingBlock("t", "sig"),
            ThinkingBlock("other provider's"),
            RedactedThinkingBlock("xyz"),
            TextBlock("b"),
        ),
    )
    assert _encode(request)["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "t", "signature": "sig"},
        {"type": "redacted_thinking", "data": "xyz"},
        {"type": "text", "text": "b"},
    ]


def test_only_system_turns_are_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        _encode(Request("m", (Message("system", (TextBlock("x"),)),)))
    assert caught.value.param == "messages"


@pytest.mark.parametrize(
    "call_id", ["functions.get_weather:3", "call 1", "a.b", "a:b", "", "ünïcode", "call_abc-1_X"]
)
def test_tool_ids_are_rewritten_deterministically_into_anthropics_charset(call_id: str) -> None:
    request = _request(
        _user(TextBlock("go")),
        _assistant(ToolCallBlock(call_id, "w", "{}")),
        _user(ToolResultBlock(call_id, (TextBlock("ok"),))),
    )
    messages = _encode(request)["messages"]
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
    request = _request(_user(TextBlock("go")), _assistant(ToolCallBlock("c", "now", arguments)))
    assert _encode(request)["messages"][1]["content"][0]["input"] == {}


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]", '"text"'])
def test_arguments_that_are_no_json_object_are_refused_with_their_path(arguments: str) -> None:
    request = _request(
        _user(TextBlock("go")), _assistant(TextBlock("x"), ToolCallBlock("c", "f", arguments))
    )
    with pytest.raises(InvalidRequestError) as caught:
        _encode(request)
    assert caught.value.param == "messages.1.content.1.arguments"


def test_images_url_base64_and_data_url() -> None:
    request = _request(
        _user(
            ImageBlock(url="https://x.test/a.png", detail="high"),
            ImageBlock(data=PNG, media_type="image/png", detail="low"),
            ImageBlock(url=f"data:image/webp;base64,{PNG}"),
        )
    )
    assert _encode(request)["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/webp", "data": PNG}},
    ]


def test_image_media_types_anthropic_lacks_are_refused() -> None:
    with pytest.raises(UnsupportedError) as caught:
        _encode(_request(_user(ImageBlock(data=PNG, media_type="image/bmp"))))
    assert caught.value.param == "messages.0.content.0"


def test_caller_max_tokens_wins_without_reasoning() -> None:
    assert _encode(_request(max_tokens=300), default=8192)["max_tokens"] == 300


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
    body = _encode(_request(reasoning=reasoning, max_tokens=max_tokens), default=default)
    assert body["max_tokens"] == expected_max
    if expected_budget is None:
        assert "thinking" not in body
    else:
        assert body["thinking"] == {"type": "enabled", "budget_tokens": expected_budget}
        assert body["max_tokens"] > expected_budget


def test_a_tool_loop_without_its_thinking_block_continues_without_thinking() -> None:
    loop = (
        _user(TextBlock("weather?")),
        _assistant(ToolCallBlock("call_1", "w", '{"city":"Paris"}')),
        _user(ToolResultBlock("call_1", (TextBlock("18C"),))),
    )
    body = _encode(_request(*loop, reasoning=Reasoning(effort="high"), temperature=0.3))
    assert "thinking" not in body
    assert body["temperature"] == 0.3


def test_a_tool_loop_with_its_signed_thinking_block_keeps_thinking() -> None:
    loop = (
        _user(TextBlock("weather?")),
        _assistant(ThinkingBlock("call it", "sig"), ToolCallBlock("call_1", "w", "{}")),
        _user(ToolResultBlock("call_1", (TextBlock("18C"),))),
    )
    body = _encode(_request(*loop, reasoning=Reasoning(effort="low")))
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}


def test_an_earlier_tool_loop_does_not_turn_thinking_off() -> None:
    history = (
        _user(TextBlock("weather?")),
        _assistant(ToolCallBlock("call_1", "w", "{}")),
        _user(ToolResultBlock("call_1", (TextBlock("18C"),))),
        _assistant(TextBlock("It is 18C.")),
        _user(TextBlock("thanks; and Rome?")),
    )
    body = _encode(_request(*history, reasoning=Reasoning(effort="low")))
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
        _encode(_request(reasoning=reasoning, max_tokens=max_tokens))
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
        _encode(_request(**fields))
    assert caught.value.param == param


def test_json_object_refusal_suggests_json_schema() -> None:
    with pytest.raises(UnsupportedError, match="json_schema"):
        _encode(_request(response_format=ResponseFormat(kind="json_object")))


def test_sampling_allowed_with_thinking() -> None:
    body = _encode(_request(temperature=1.0, top_p=0.95, reasoning=Reasoning(effort="low")))
    assert (body["temperature"], body["top_p"]) == (1.0, 0.95)


def test_sampling_stop_user_stream_and_format() -> None:
    request = _request(
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
    body = _encode(request)
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
    request = _request(
        tools=(Tool("w", SCHEMA, description="weather", strict=True),),
        tool_choice=choice,
        parallel_tool_calls=parallel,
    )
    body = _encode(request)
    assert body["tools"] == [
        {"name": "w", "input_schema": SCHEMA, "description": "weather", "strict": True}
    ]
    assert body.get("tool_choice") == expected


def test_without_tools_there_is_no_tool_choice() -> None:
    body = _encode(_request(tool_choice=ToolChoice("auto"), parallel_tool_calls=False))
    assert "tool_choice" not in body
    assert "tools" not in body


def test_forcing_a_tool_without_tools_is_invalid() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        _encode(_request(tool_choice=ToolChoice("any")))
    assert caught.value.param == "tool_choice"


def test_a_tool_without_parameters_gets_an_empty_object_schema() -> None:
    body = _encode(_request(tools=(Tool("now", {}),)))
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


# round trip: every request Anthropic can carry survives encode -> decode unchanged

# The normal form: at most one leading system turn of non-empty texts; then turns
# alternating user/assistant from user, none empty, no empty text; user turns hold tool
# results first, then text and images (no `detail`); assistant turns hold signed
# thinking, redacted thinking, text and tool calls; tool call ids already in Anthropic's
# charset; arguments compact JSON objects; max_tokens set; temperature and top_p in 0-1;
# reasoning, if any, a stated budget of at least 1024 below max_tokens (then temperature
# unset or 1, top_p unset or >= 0.95, no top_k, tool_choice auto/none/unset, and the
# last assistant turn, if it calls tools, starts with thinking); tool_choice only with tools; parallel_tool_calls unset, or False with an auto/any/tool choice;
# response_format json_schema without name or strict; include_usage False.

TEXT = st.text(min_size=1, max_size=20)
IDS = st.from_regex(r"[a-zA-Z0-9_-]{1,12}", fullmatch=True)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
ARGUMENTS = st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=3).map(
    lambda value: orjson.dumps(value).decode()
)
IMAGES = st.one_of(
    st.builds(
        ImageBlock, url=st.from_regex(r"https://[a-z]{1,8}\.test/[a-z]{0,8}", fullmatch=True)
    ),
    st.builds(
        ImageBlock,
        data=st.from_regex(r"[A-Za-z0-9+/]{4,16}={0,2}", fullmatch=True),
        media_type=st.sampled_from(["image/jpeg", "image/png", "image/gif", "image/webp"]),
    ),
)
TEXT_BLOCKS = st.builds(TextBlock, TEXT)
TOOL_RESULTS = st.builds(
    ToolResultBlock,
    tool_call_id=IDS,
    content=st.lists(TEXT_BLOCKS | IMAGES, max_size=2).map(tuple),
    is_error=st.booleans(),
)
ASSISTANT_BLOCKS = st.one_of(
    TEXT_BLOCKS,
    st.builds(ToolCallBlock, id=IDS, name=TEXT, arguments=ARGUMENTS),
    st.builds(ThinkingBlock, text=st.text(max_size=20), signature=TEXT),
    st.builds(RedactedThinkingBlock, TEXT),
)


@st.composite
def _user_turns(draw: st.DrawFn) -> Message:
    results = draw(st.lists(TOOL_RESULTS, max_size=2))
    rest = draw(st.lists(TEXT_BLOCKS | IMAGES, min_size=0 if results else 1, max_size=2))
    return _user(*results, *rest)


ASSISTANT_TURNS = st.lists(ASSISTANT_BLOCKS, min_size=1, max_size=3).map(lambda b: _assistant(*b))
TOOLS = st.builds(
    Tool,
    name=TEXT,
    parameters=st.fixed_dictionaries(
        {"type": st.just("object")},
        optional={
            "properties": st.dictionaries(
                st.text(max_size=5), st.just({"type": "string"}), max_size=2
            )
        },
    ),
    description=st.none() | TEXT,
    strict=st.none() | st.booleans(),
)


def _thinking_first_in_the_last_tool_loop(messages: list[Message]) -> list[Message]:
    """With thinking on, Anthropic needs the last assistant turn's tool calls to follow
    its thinking block; without it the encoder turns thinking off (not a round trip)."""
    last = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=None)
    if last is None:
        return messages
    content = messages[last].content
    calls = any(isinstance(block, ToolCallBlock) for block in content)
    if not calls or isinstance(content[0], ThinkingBlock | RedactedThinkingBlock):
        return messages
    thought = _assistant(ThinkingBlock("thought", "signature"), *content)
    return [*messages[:last], thought, *messages[last + 1 :]]


@st.composite
def _carriable_requests(draw: st.DrawFn) -> Request:
    messages: list[Message] = []
    if draw(st.booleans()):
        messages.append(
            Message("system", tuple(draw(st.lists(TEXT_BLOCKS, min_size=1, max_size=2))))
        )
    turns = range(draw(st.integers(1, 5)))
    messages.extend(draw(_user_turns() if turn % 2 == 0 else ASSISTANT_TURNS) for turn in turns)
    thinking = draw(st.booleans())
    if thinking:
        messages = _thinking_first_in_the_last_tool_loop(messages)
    max_tokens = draw(st.integers(1025 if thinking else 1, 64000))
    reasoning = (
        Reasoning(budget_tokens=draw(st.integers(1024, max_tokens - 1))) if thinking else None
    )
    tools = tuple(draw(st.lists(TOOLS, max_size=2)))
    tool_choice = None
    if tools:
        choices = [ToolChoice("auto"), ToolChoice("none")]
        if not thinking:
            choices += [ToolChoice("any"), ToolChoice("tool", tools[0].name)]
        tool_choice = draw(st.none() | st.sampled_from(choices))
    forcing = tool_choice is not None and tool_choice.mode != "none"
    return Request(
        model=draw(TEXT),
        messages=tuple(messages),
        max_tokens=max_tokens,
        temperature=draw(st.none() | (st.just(1.0) if thinking else st.floats(0, 1))),
        top_p=draw(st.none() | st.floats(0.95 if thinking else 0, 1)),
        top_k=None if thinking else draw(st.none() | st.integers(0, 500)),
        stop=tuple(draw(st.lists(TEXT, max_size=3))),
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=draw(st.sampled_from([None, False])) if forcing else None,
        response_format=draw(
            st.none()
            | st.builds(
                ResponseFormat,
                kind=st.just("json_schema"),
                schema=st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=3),
            )
        ),
        reasoning=reasoning,
        user=draw(st.none() | TEXT),
        stream=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(_carriable_requests())
def test_carriable_requests_survive_encode_then_decode(request: Request) -> None:
    body = encode_messages_request(request, request.model, default_max_tokens=4096)
    _sdk_validate(body)
    assert decode_messages_request(orjson.loads(orjson.dumps(body))) == request
