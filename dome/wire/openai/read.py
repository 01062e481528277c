"""Reads the facts a simulated model needs from an OpenAI Chat Completions request body.

Pure; validates only the shapes it reads (WIRE-FORMATS 2.2) and names the field
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

# Messages after which the model answers a tool's output (legacy "function" included).
_TOOL_RESULT_ROLES = frozenset({"tool", "function"})


def digest_chat_request(body: bytes | dict[str, Any]) -> ConversationDigest:
    """The digest of a `POST /v1/chat/completions` body.

    Raises:
        InvalidRequestError: the body is not JSON or a field read here has a bad shape.
    """
    request = as_request(body)
    messages = _messages(request)
    tools = _tools(request)
    texts = [_message_text(message, f"messages.{i}") for i, message in enumerate(messages)]
    stream = optional_bool(request, "stream")
    return ConversationDigest(
        last_user_text=_last_user_text(messages, texts),
        tool_names=tuple(tool.name for tool in tools),
        first_tool=tools[0] if tools else None,
        ends_with_tool_result=messages[-1].get("role") in _TOOL_RESULT_ROLES,
        input_text_chars=sum(map(len, texts)) + _tool_definition_chars(request),
        max_tokens=_max_tokens(request),
        stream=stream,
        include_usage=stream and _include_usage(request),
        reasoning=request.get("reasoning_effort") not in {None, "none"},
        images=tuple(_images(messages)),
        last_tool_result=texts[-1] if messages[-1].get("role") in _TOOL_RESULT_ROLES else None,
    )


def _images(messages: list[JSONObject]) -> Iterator[str]:
    """A note per image part, in order: a data URL's type and size, or the URL."""
    for message in messages:
        content = message.get("content")
        for part in content if isinstance(content, list) else []:
            image = part.get("image_url") if isinstance(part, dict) else None
            url = image.get("url") if isinstance(image, dict) else None
            if not isinstance(url, str):
                continue
            header, comma, data = url.partition(",")
            if url.startswith("data:") and comma and header.endswith(";base64"):
                yield describe_image(header[len("data:") : -len(";base64")], data)
            else:
                yield f"url {url}"


def _messages(request: dict[str, Any]) -> list[JSONObject]:
    items = required_list(request, "messages")
    if not items:
        fail("messages", "must not be empty")
    messages = [expect_object(item, f"messages.{i}") for i, item in enumerate(items)]
    for i, message in enumerate(messages):
        if "role" not in message:
            fail(f"messages.{i}.role", "field required")
        expect_string(message["role"], f"messages.{i}.role")
    return messages


def _message_text(message: JSONObject, path: str) -> str:
    """Text of the message content, plus any tool-call arguments it carries."""
    content = message.get("content")
    if content is None and message.get("role") not in {"assistant", "function"}:
        fail(f"{path}.content", "field required")
    text = _content_text(content, f"{path}.content")
    calls = message.get("tool_calls")
    if calls is None:
        return text
    items = expect_array(calls, f"{path}.tool_calls")
    arguments = [_call_arguments(call, f"{path}.tool_calls.{i}") for i, call in enumerate(items)]
    return text + "".join(arguments)


def _content_text(content: object, path: str) -> str:
    """Content is a string, an array of parts (only text parts count) or null."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        fail(path, "expected string or array")
    texts = []
    for i, item in enumerate(content):
        part = expect_object(item, f"{path}.{i}")
        if part.get("type") == "text":
            texts.append(expect_string(part.get("text"), f"{path}.{i}.text"))
    return "\n".join(texts)


def _call_arguments(call: object, path: str) -> str:
    function = expect_object(expect_object(call, path).get("function"), f"{path}.function")
    return expect_string(function.get("arguments", ""), f"{path}.function.arguments")


def _last_user_text(messages: list[JSONObject], texts: list[str]) -> str:
    for message, text in zip(reversed(messages), reversed(texts), strict=True):
        if message["role"] == "user" and text:
            return text
    return ""


def _tools(request: dict[str, Any]) -> list[ToolSummary]:
    tools = request.get("tools")
    if tools is None:
        return []
    return [_tool(item, f"tools.{i}") for i, item in enumerate(expect_array(tools, "tools"))]


def _tool(item: object, path: str) -> ToolSummary:
    """A function tool: `{"type": "function", "function": {"name", "parameters"}}`."""
    tool = expect_object(item, path)
    if "function" not in tool:
        fail(f"{path}.function", "field required")
    function = expect_object(tool["function"], f"{path}.function")
    if "name" not in function:
        fail(f"{path}.function.name", "field required")
    name = expect_string(function["name"], f"{path}.function.name")
    schema = expect_object(function.get("parameters", {}), f"{path}.function.parameters")
    return summarize_tool(name, schema)


def _tool_definition_chars(request: dict[str, Any]) -> int:
    tools = request.get("tools")
    return len(orjson.dumps(tools)) if tools else 0


def _max_tokens(request: dict[str, Any]) -> int | None:
    """`max_completion_tokens` is preferred; `max_tokens` is its deprecated alias."""
    value = optional_int(request, "max_completion_tokens")
    return value if value is not None else optional_int(request, "max_tokens")


def _include_usage(request: dict[str, Any]) -> bool:
    options = request.get("stream_options")
    if options is None:
        return False
    value = expect_object(options, "stream_options").get("include_usage")
    if value is not None and not isinstance(value, bool):
        fail("stream_options.include_usage", "expected a boolean")
    return value is True
