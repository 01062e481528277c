"""ASGI type aliases and the few raw send/receive helpers the agent plane uses.

The agent plane speaks raw ASGI rather than through a framework: it is the hot path,
and streaming relay needs direct control of when headers and chunks go out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from dome.errors import InvalidRequestError, RequestTooLargeError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_HEADERS = ((b"content-type", b"application/json"),)
SSE_HEADERS = (
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
)


class ClientDisconnectedError(Exception):
    """The agent went away while we were reading its request."""


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole request body, refused early when it is over `limit` bytes."""
    declared = header(scope, b"content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError as exc:
            raise InvalidRequestError("content-length is not a number") from exc
        if size > limit:
            raise RequestTooLargeError(f"request body is over the limit of {limit} bytes")
    parts: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnectedError
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > limit:
            raise RequestTooLargeError(f"request body is over the limit of {limit} bytes")
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    headers: tuple[tuple[bytes, bytes], ...] = JSON_HEADERS,
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def encode_headers(
    relayed: tuple[tuple[str, str], ...], base: tuple[tuple[bytes, bytes], ...]
) -> tuple[tuple[bytes, bytes], ...]:
    """Our own headers, plus the provider's relayed ones except the ones we set."""
    ours = {name for name, _ in base}
    extra = tuple(
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in relayed
        if name.encode("latin-1") not in ours
    )
    return base + extra
