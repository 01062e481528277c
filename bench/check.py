"""The functional check run before any measurement: both targets must answer correctly.

A non-streaming call must return a `chat.completion`, and a streaming call must return
all 21 `data:` events (20 chunks, the last with usage, then [DONE]).
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus

import payloads
from http1 import Connection, Response, run_client
from processes import BenchError

_PATH = "/v1/chat/completions"


def _object_kind(body: bytes) -> object:
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return answer.get("object") if isinstance(answer, dict) else None


def _problem(response: Response, *, stream: bool) -> str | None:
    """What is wrong with an answer, or None if it is right."""
    if response.status != HTTPStatus.OK:
        return f"status {response.status}"
    if stream and response.data_events != payloads.STREAM_EVENTS:
        return f"{response.data_events} data events, want {payloads.STREAM_EVENTS}"
    if not stream and _object_kind(response.body) != "chat.completion":
        return "no chat.completion object"
    return None


async def _check(port: int, token: str | None, model: str, label: str) -> None:
    connection = await Connection.open("127.0.0.1", port)
    try:
        for stream in (False, True):
            body = payloads.chat_request(model, stream=stream)
            response = await connection.post(_PATH, body, token)
            problem = _problem(response, stream=stream)
            if problem is not None:
                kind = "streaming" if stream else "non-streaming"
                msg = f"{label}: {kind} call failed: {problem}: {response.body[:300]!r}"
                raise BenchError(msg)
    finally:
        await connection.close()


def check_target(port: int, token: str | None, model: str, label: str) -> None:
    """Raise BenchError unless the target at `port` answers both kinds of call."""

    async def bounded() -> None:
        async with asyncio.timeout(30):
            await _check(port, token, model, label)

    try:
        run_client(bounded())
    except TimeoutError as exc:
        msg = f"{label}: the functional check timed out"
        raise BenchError(msg) from exc
