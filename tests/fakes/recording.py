"""Recording what a fake upstream received: ASGI middleware and the record type.

The middleware buffers the whole request body, appends a `RecordedRequest`
before the app runs, then replays the body to the app unchanged.
"""

import json
import time
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as it arrived: header names lower-case, body as raw bytes.

    Repeated headers are joined with ", " (RFC 9110, section 5.3).
    """

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    received_at: float = 0.0  # time.monotonic() on arrival, to order requests across fakes

    def json(self) -> Any:
        return json.loads(self.body)


class RecordingMiddleware:
    """Appends every HTTP request to `log`, then hands it to `app`."""

    def __init__(self, app: ASGIApp, log: list[RecordedRequest]) -> None:
        self._app = app
        self._log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        body = await _read_body(receive)
        self._log.append(_record(scope, body))
        await self._app(scope, _replay(body, receive), send)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive callable giving `body` once, then the real channel (disconnects)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def _record(scope: Scope, body: bytes) -> RecordedRequest:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return RecordedRequest(
        method=scope["method"],
        path=scope["path"],
        query=scope["query_string"].decode("latin-1"),
        headers=headers,
        body=body,
        received_at=time.monotonic(),
    )
