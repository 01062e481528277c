"""What the OpenAI request tests share: bodies, requests, and a body as it goes out."""

from __future__ import annotations

from typing import Any

import orjson

from dome.wire.canonical import (
    Message,
    Request,
    TextBlock,
)

EMPTY_PARAMETERS = {"type": "object", "properties": {}}
WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
USER_HI = {"role": "user", "content": "hi"}


def chat_body(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-test", "messages": [USER_HI], **fields}


def request_of(*messages: Message, **fields: Any) -> Request:
    return Request(
        model="gpt-test", messages=messages or (Message("user", (TextBlock("hi"),)),), **fields
    )


def on_the_wire(body: dict[str, object]) -> dict[str, Any]:
    """The body as the upstream receives it: through JSON."""
    parsed: dict[str, Any] = orjson.loads(orjson.dumps(body))
    return parsed
