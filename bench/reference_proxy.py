"""The reference row (`--reference`): the minimal proxy of research/perf-baseline.md, row (c').

A raw ASGI app under uvicorn (uvloop, httptools, one worker) with one pooled aiohttp
session. It checks the bearer key, reads `model` with orjson only to pick the fast or the
paced upstream, and forwards the original bytes; streams are relayed chunk by chunk. It
shows what this machine gives at this moment with no governance at all. It has no
policy, audit or configuration, and never will: it is a yardstick, not a broker.

Run: `python bench/reference_proxy.py PORT FAST_PORT PACED_PORT`.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import aiohttp
import orjson
import payloads
import uvicorn

TOKEN = "sk-bench-reference"  # noqa: S105 - a fixed key for a local yardstick
_AUTHORIZATION = f"Bearer {TOKEN}".encode()

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ReferenceProxy:
    """The ASGI app; the aiohttp session lives from lifespan startup to shutdown."""

    def __init__(self, fast_port: int, paced_port: int) -> None:
        self._urls = {
            payloads.FAST_MODEL: f"http://127.0.0.1:{fast_port}/v1/chat/completions",
            payloads.PACED_MODEL: f"http://127.0.0.1:{paced_port}/v1/chat/completions",
        }
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._proxy(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                connector = aiohttp.TCPConnector(limit=512)
                self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._session is not None:
                    await self._session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _proxy(self, scope: Message, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if dict(scope["headers"]).get(b"authorization") != _AUTHORIZATION:
            await _answer(send, 401, b"application/json", b'{"error":"bad key"}')
            return
        url = self._urls.get(orjson.loads(body).get("model"), self._urls[payloads.FAST_MODEL])
        assert self._session is not None  # noqa: S101 - set in lifespan startup
        headers = {"content-type": "application/json", "authorization": "Bearer sk-bench"}
        async with self._session.post(url, data=body, headers=headers) as upstream:
            content_type = upstream.headers.get("content-type", "application/json").encode()
            if not content_type.startswith(b"text/event-stream"):
                await _answer(send, upstream.status, content_type, await upstream.read())
                return
            start = {"type": "http.response.start", "status": upstream.status}
            await send({**start, "headers": [(b"content-type", content_type)]})
            async for chunk in upstream.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})


async def _answer(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    headers = [(b"content-type", content_type)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    port, fast_port, paced_port = (int(arg) for arg in sys.argv[1:4])
    uvicorn.run(
        ReferenceProxy(fast_port, paced_port),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
