"""The functional check run before any measurement: both targets must answer correctly.

A non-streaming call must return a `chat.completion`, and a streaming call must return
all 21 `data:` events (20 chunks, the last with usage, then [DONE]).
"""

from __future__ import annotations

import asyncio
import json

import payloads
from http1 import Connection
from processes import BenchError

_OK = 200


def _object_kind(body: bytes) -> object:
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return answer.get("object") if isinstance(answer, dict) else None


async def _check(port: int, token: str | None, model: str, label: str) -> None:
    connection = await Connection.open("127.0.0.1", port)
    try:
        whole = await connection.post(
            "/v1/chat/completions", payloads.chat_request(model, stream=False), token
        )
        if whole.status != _OK or _object_kind(whole.body) != "chat.completion":
            msg = (
                f"{label}: non-streaming call gave {whole.status} {whole.body[:300]!r}"
            )
            raise BenchError(msg)
        stream = await connection.post(
            "/v1/chat/completions", payloads.chat_request(model, stream=True), token
        )
        if stream.status != _OK or stream.data_events != payloads.STREAM_EVENTS:
            msg = (
                f"{label}: streaming call gave {stream.status} with {stream.data_events} "
                f"data events (want {payloads.STREAM_EVENTS}): {stream.body[:300]!r}"
            )
            raise BenchError(msg)
    finally:
        await connection.close()


def check_target(port: int, token: str | None, model: str, label: str) -> None:
    """Raise BenchError unless the target at `port` answers both kinds of call correctly."""

    async def bounded() -> None:
        async with asyncio.timeout(30):
            await _check(port, token, model, label)

    try:
        asyncio.run(bounded())
    except TimeoutError as exc:
        msg = f"{label}: the functional check timed out"
        raise BenchError(msg) from exc
