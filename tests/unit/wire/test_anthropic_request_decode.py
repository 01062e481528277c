"""Anthropic Messages requests from agents: body -> canonical, and what is refused."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from dome.errors import InvalidRequestError, UnsupportedError
from dome.wire.anthropic import (
    ACCEPTED_NOT_CARRIED,
    UNSUPPORTED_BLOCK_TYPES,
    UNSUPPORTED_FIELDS,
    decode_messages_request,
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
    agent_body,
    assistant,
    user,
)

# decode: agent body -> canonical


def test_minimal_body() -> None:
    request = decode_messages_request(agent_body())
    assert request == Request(
        model="claude-test", messages=(user(TextBlock("hi")),), max_tokens=1024
    )


@pytest.mark.parametrize(
    "system",
    [
        "be brief",
        [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
    ],
)
def test_system_becomes_one_leading_system_turn(system: object) -> None:
    request = decode_messages_request(agent_body(system=system))
    assert request.messages[0] == Message(role="system", content=(TextBlock("be brief"),))
    assert request.messages[1] == user(TextBlock("hi"))


def test_system_blocks_stay_separate_blocks() -> None:
    system = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    request = decode_messages_request(agent_body(system=system))
    assert request.messages[0].content == (TextBlock("a"), TextBlock("b"))


@pytest.mark.parametrize("system", ["", []])
def test_empty_system_adds_no_turn(system: object) -> None:
    assert decode_messages_request(agent_body(system=system)).messages == (user(TextBlock("hi")),)


def test_multi_turn_with_string_and_block_content() -> None:
    messages = [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": [{"type": "text", "text": "hi there"}]},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    ]
    request = decode_messages_request(agent_body(messages=messages))
    assert request.messages == (
        user(TextBlock("hello")),
        assistant(TextBlock("hi there")),
        user(TextBlock("a"), TextBlock("b")),
    )


def test_system_turn_inside_messages_stays_where_it_stands() -> None:
    messages = [
        {"role": "user", "content": "a"},
        {"role": "system", "content": "now be terse"},
        {"role": "user", "content": "b"},
    ]
    request = decode_messages_request(agent_body(messages=messages))
    assert request.messages[1] == Message(role="system", content=(TextBlock("now be terse"),))


def test_images_base64_and_url() -> None:
    content = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.test/cat.jpg"}},
    ]
    request = decode_messages_request(agent_body(messages=[{"role": "user", "content": content}]))
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
    request = decode_messages_request(agent_body(messages=messages))
    assert request.messages[1] == assistant(
        ThinkingBlock("call it", "sig"),
        RedactedThinkingBlock("opaque"),
        ToolCallBlock("toolu_1", "w", '{"city":"Paris","n":1}'),
        ToolCallBlock("toolu_2", "w", "{}"),
    )
    assert request.messages[2] == user(
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
    body = agent_body(
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
    request = decode_messages_request(agent_body(tools=tools, tool_choice=tool_choice))
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
    assert decode_messages_request(agent_body(max_tokens=4096, **fields)).reasoning == expected


def test_output_format_json_schema() -> None:
    output_config = {"format": {"type": "json_schema", "schema": SCHEMA}}
    request = decode_messages_request(agent_body(output_config=output_config))
    assert request.response_format == ResponseFormat(kind="json_schema", schema=SCHEMA)


@pytest.mark.parametrize("field", sorted(ACCEPTED_NOT_CARRIED))
def test_accepted_fields_are_not_carried(field: str) -> None:
    values = {
        "cache_control": {"type": "ephemeral"},
        "service_tier": "auto",
        "speed": "fast",
        "diagnostics": {"previous_message_id": "msg_1"},
    }
    assert decode_messages_request(agent_body(**{field: values[field]})) == decode_messages_request(
        agent_body()
    )


def test_null_false_and_empty_unsupported_fields_state_nothing() -> None:
    body = agent_body(container=None, mcp_servers=[], context_management=None, inference_geo=None)
    assert decode_messages_request(body) == decode_messages_request(agent_body())


def _with_block(block: Mapping[str, object], role: str = "user") -> dict[str, Any]:
    messages = [{"role": "user", "content": "hi"}, {"role": role, "content": [block]}]
    if role == "user":
        messages.insert(1, {"role": "assistant", "content": "ok"})
        return agent_body(messages=messages)
    return agent_body(messages=messages)


URL_IMAGE = {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}}
DOCUMENT = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}

UNSUPPORTED: list[tuple[dict[str, Any], str]] = [
    (agent_body(container="cntr_1"), "container"),
    (
        agent_body(mcp_servers=[{"type": "url", "url": "https://mcp.test", "name": "m"}]),
        "mcp_servers",
    ),
    (agent_body(context_management={"edits": []}), "context_management"),
    (agent_body(inference_geo="us"), "inference_geo"),
    (agent_body(workspace_id="w"), "workspace_id"),
    (agent_body(brand_new_field={"x": 1}), "brand_new_field"),
    (agent_body(metadata={"user_id": "u", "trace": "t"}), "metadata.trace"),
    (agent_body(tools=[{"type": "web_search_20250305", "name": "web_search"}]), "tools.0.type"),
    (agent_body(tools=[{"type": "bash_20250124", "name": "bash"}]), "tools.0.type"),
    (
        agent_body(tools=[{"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}]),
        "tools.0.type",
    ),
    (
        agent_body(tools=[{"type": "code_execution_20250825", "name": "code_execution"}]),
        "tools.0.type",
    ),
    (agent_body(tools=[{"type": "computer_20250124", "name": "computer"}]), "tools.0.type"),
    (
        agent_body(
            tools=[{"name": "w", "input_schema": SCHEMA, "input_examples": [{"city": "x"}]}]
        ),
        "tools.0.input_examples",
    ),
    (agent_body(thinking={"type": "between_tools"}), "thinking.type"),
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
    (agent_body(max_tokens="many"), "max_tokens"),
    (agent_body(max_tokens=0), "max_tokens"),
    ({"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}, "model"),
    (agent_body(messages=[]), "messages"),
    (agent_body(messages="hi"), "messages"),
    (agent_body(messages=[{"role": "tool", "content": "x"}]), "messages.0.role"),
    (agent_body(messages=[{"role": "user"}]), "messages.0.content"),
    (agent_body(messages=[{"role": "user", "content": 5}]), "messages.0.content"),
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
    (agent_body(system=[{"type": "image", "source": {}}]), "system.0.type"),
    (agent_body(temperature=1.5), "temperature"),
    (agent_body(top_p="high"), "top_p"),
    (agent_body(stop_sequences=["a", 1]), "stop_sequences.1"),
    (agent_body(tools=[{"name": "w"}]), "tools.0.input_schema"),
    (agent_body(tool_choice={"type": "required"}), "tool_choice.type"),
    (agent_body(tool_choice={"type": "tool"}), "tool_choice.name"),
    (agent_body(thinking={"type": "enabled"}), "thinking.budget_tokens"),
    (agent_body(thinking={"type": "enabled", "budget_tokens": 512}), "thinking.budget_tokens"),
    (agent_body(thinking={"type": "enabled", "budget_tokens": 1024}), "thinking.budget_tokens"),
    (agent_body(thinking={"type": "on"}), "thinking.type"),
    (agent_body(output_config={"effort": "extreme"}), "output_config.effort"),
    (agent_body(output_config={"format": {"type": "json_object"}}), "output_config.format.type"),
    (agent_body(metadata={"user_id": 7}), "metadata.user_id"),
    (agent_body(stream="yes"), "stream"),
]


@pytest.mark.parametrize(("body", "param"), MALFORMED)
def test_malformed_bodies_name_the_path(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode_messages_request(body)
    assert caught.value.param == param
    assert caught.value.message.startswith(f"{param}: ")


def test_missing_max_tokens_says_field_required() -> None:
    body = agent_body()
    del body["max_tokens"]
    with pytest.raises(InvalidRequestError, match=r"^max_tokens: field required$"):
        decode_messages_request(body)
