"""The functional check run before any measurement: every target must answer correctly.

In OpenAI Chat format a non-streaming call must return a `chat.completion`, and a
streaming call all 21 `data:` events (20 chunks, the last with usage, then [DONE]). In
Anthropic Messages format (the translated target) the answer must be the same text as
a valid `message`, and the stream a valid event sequence from `message_start` to
`message_stop` (anthropic_format.py).
"""

from __future__ import annotations

import asyncio

from dialects import Dialect
from http1 import Connection, run_client
from processes import BenchError


async def _check(port: int, dialect: Dialect, token: str | None, model: str, label: str) -> None:
    connection = await Connection.open("127.0.0.1", port)
    try:
        for stream in (False, True):
            body = dialect.body(model, stream=stream)
            response = await connection.post(dialect.path, body, dialect.headers(token))
            problem = dialect.problem(response, stream=stream)
            if problem is not None:
                kind = "streaming" if stream else "non-streaming"
                msg = f"{label}: {kind} call failed: {problem}: {response.body[:300]!r}"
                raise BenchError(msg)
    finally:
        await connection.close()


def check_target(port: int, dialect: Dialect, token: str | None, model: str, label: str) -> None:
    """Raise BenchError unless the target at `port` answers both kinds of call."""

    async def bounded() -> None:
        async with asyncio.timeout(30):
            await _check(port, dialect, token, model, label)

    try:
        run_client(bounded())
    except TimeoutError as exc:
        msg = f"{label}: the functional check timed out"
        raise BenchError(msg) from exc
