"""What the Anthropic request tests share: bodies, turns, requests, and the SDK's own
validation of what the encoder produces."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson
import pydantic
from anthropic.types.message_create_params import (
    MessageCreateParamsNonStreaming,
    MessageCreateParamsStreaming,
)

from dome.wire.anthropic import (
    encode_messages_request,
)
from dome.wire.canonical import (
    Message,
    Request,
    RequestBlock,
    TextBlock,
)

NON_STREAMING = pydantic.TypeAdapter[MessageCreateParamsNonStreaming](
    MessageCreateParamsNonStreaming
)
STREAMING = pydantic.TypeAdapter[MessageCreateParamsStreaming](MessageCreateParamsStreaming)
TOOL_ID = re.compile(r"[a-zA-Z0-9_-]+")
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
PNG = "iVBORw0KGgo="


def agent_body(**fields: object) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-test",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hi"}],
    }
    body.update(fields)
    return body


def user(*blocks: RequestBlock) -> Message:
    return Message(role="user", content=blocks)


def assistant(*blocks: RequestBlock) -> Message:
    return Message(role="assistant", content=blocks)


def request_of(*messages: Message, **fields: Any) -> Request:
    return Request("claude-test", messages or (user(TextBlock("hi")),), **fields)


def consume(value: object) -> object:
    """Run pydantic's lazy validators over every iterable the SDK types declare."""
    if isinstance(value, Iterator):
        return [consume(item) for item in value]
    if isinstance(value, dict):
        return {key: consume(item) for key, item in value.items()}
    if isinstance(value, list):
        return [consume(item) for item in value]
    return value


def sdk_validate(body: dict[str, object]) -> None:
    """The Anthropic SDK's own request types accept the body (validation raises)."""
    adapter: pydantic.TypeAdapter[Any] = STREAMING if body.get("stream") else NON_STREAMING
    consume(adapter.validate_python(orjson.loads(orjson.dumps(body))))


def encode(request: Request, default: int = 4096) -> dict[str, Any]:
    body = encode_messages_request(request, "claude-sonnet-4-5", default_max_tokens=default)
    sdk_validate(body)
    return orjson.loads(orjson.dumps(body))  # type: ignore[no-any-return]
