"""Reads the facts a simulated model needs from an Anthropic Messages request body.

Pure; validates only the shapes it reads (WIRE-FORMATS 3.2) and names the field
that is wrong. The full canonical request is a separate, later translation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from dome.wire.canonical import ConversationDigest, ToolSummary, describe_image, summarize_tool
from dome.wire.facts import optional_bool, optional_int, required_list
from dome.wire.shape import (
    JSONObject,
    as_request,
    expect_array,
    expect_object,
    expect_string,
    fail,
)

_ROLES = frozenset({"user", "assistant"})


def digest_messages_request(
    body: bytes | dict[str, Any], *, counting: bool = False
) -> ConversationDigest:
    """The digest of a `POST /v1/messages` body; `max_tokens` is required there.

    `counting`: the body is a count_tokens request, which has no `max_tokens`.

    Raises:
        InvalidRequestError: the body is not JSON or a field read here has a bad shape.
    """
    request = as_request(body)
    messages = _messages(request)
    tools = _tools(request)
    texts = [_content_text(m["content"], f"messages.{i}.content") for i, m in enumerate(messages)]
    system = _content_text(request.get("system"), "system")
    input_chars = len(system) + sum(map(len, texts)) + _tool_definition_chars(request)
    return ConversationDigest(
        last_user_text=_last_user_text(messages),
        tool_names=tuple(tool.name for tool in tools),
        first_tool=tools[0] if tools else None,
        ends_with_tool_result=_is_tool_result(messages[-1]),
        input_text_chars=input_chars,
        max_tokens=None if counting else _max_tokens(request),
        stream=optional_bool(request, "stream"),
        include_usage=False,
        reasoning=_thinking_on(request),
        images=tuple(_images(messages)),
        last_tool_result=_last_tool_result(messages[-1]),
    )


def _thinking_on(request: dict[str, Any]) -> bool:
    thinking = request.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") in {"enabled", "adaptive"}


def _images(messages: list[JSONObject]) -> Iterator[str]:
    """A note per image block, tool results included, in order."""
    for message in messages:
        yield from _block_images(message["content"])


def _block_images(content: object) -> Iterator[str]:
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "tool_result":
            yield from _block_images(block.get("content"))
        source = block.get("source")
        if block.get("type") != "image" or not isinstance(source, dict):
            continue
        if source.get("type") == "url":
            yield f"url {source.get('url')}"
        else:
            yield describe_image(str(source.get("media_type")), str(source.get("data", "")))


def _last_tool_result(message: JSONObject) -> str | None:
    """The text of the last tool result in `message`, if it carries any."""
    content = message["content"]
    if message["role"] != "user" or not isinstance(content, list):
        return None
    results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
    if not results:
        return None
    return _content_text(results[-1].get("content"), "tool_result.content")


def _messages(request: dict[str, Any]) -> list[JSONObject]:
    items = required_list(request, "messages")
    if not items:
        fail("messages", "must not be empty")
    messages = [expect_object(item, f"messages.{i}") for i, item in enumerate(items)]
    for i, message in enumerate(messages):
        for key in ("role", "content"):
            if key not in message:
                fail(f"messages.{i}.{key}", "field required")
        if message["role"] not in _ROLES:
            fail(f"messages.{i}.role", "expected 'user' or 'assistant'")
    return messages


def _content_text(content: object, path: str) -> str:
    """Content is a string or an array of blocks; None stands for an absent `system`."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        fail(path, "expected string or array")
    return "\n".join(_block_text(item, f"{path}.{i}") for i, item in enumerate(content))


def _block_text(item: object, path: str) -> str:
    """The text a block contributes: text, tool input JSON, tool result content."""
    block = expect_object(item, path)
    kind = block.get("type")
    if kind == "text":
        return expect_string(block.get("text"), f"{path}.text")
    if kind == "tool_use":
        return orjson.dumps(block.get("input", {})).decode()
    if kind == "tool_result":
        return _content_text(block.get("content"), f"{path}.content")
    return ""  # images, documents, thinking: no countable text here


def _user_text(content: object) -> str:
    """Only the text blocks of a user message, not the tool results it carries."""
    if isinstance(content, str):
        return content
    blocks = content if isinstance(content, list) else []
    texts = [b["text"] for b in blocks if isinstance(b, dict) and b.get("type") == "text"]
    return "\n".join(texts)


def _last_user_text(messages: list[JSONObject]) -> str:
    for message in reversed(messages):
        text = _user_text(message["content"]) if message["role"] == "user" else ""
        if text:
            return text
    return ""


def _is_tool_result(message: JSONObject) -> bool:
    content = message["content"]
    if message["role"] != "user" or not isinstance(content, list):
        return False
    return any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)


def _tools(request: dict[str, Any]) -> list[ToolSummary]:
    tools = request.get("tools")
    if tools is None:
        return []
    return [_tool(item, f"tools.{i}") for i, item in enumerate(expect_array(tools, "tools"))]


def _tool(item: object, path: str) -> ToolSummary:
    """A client tool: `{"name", "description", "input_schema"}`."""
    tool = expect_object(item, path)
    if "name" not in tool:
        fail(f"{path}.name", "field required")
    name = expect_string(tool["name"], f"{path}.name")
    # Server tools (web search, ...) carry no input_schema.
    schema = expect_object(tool.get("input_schema", {}), f"{path}.input_schema")
    return summarize_tool(name, schema)


def _tool_definition_chars(request: dict[str, Any]) -> int:
    tools = request.get("tools")
    return len(orjson.dumps(tools)) if tools else 0


def _max_tokens(request: dict[str, Any]) -> int:
    """Required by the Messages API, which has no default (WIRE-FORMATS 3.2)."""
    value = optional_int(request, "max_tokens")
    if value is None:
        fail("max_tokens", "field required")
    return value
