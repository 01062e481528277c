"""A fake OpenAI upstream for the benchmark: fast enough never to be the bottleneck.

A raw asyncio protocol on uvloop, no HTTP framework. It answers POST to
.../chat/completions over keep-alive HTTP/1.1 with fixed bytes (payloads.py). The fast
listener sends a whole answer in one write (Content-Length); the paced listener sends
the 21 stream events as chunked writes 5 ms apart, for the time-to-first-byte probe.

Run: `python bench/upstream.py [--port P] [--paced-port Q]`; it prints
`READY <fast port> <paced port>` once both listeners are bound, and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
from collections.abc import Callable
from dataclasses import dataclass

import payloads
import uvloop

_MAX_HEAD = 64 * 1024
_STREAM_TRUE = re.compile(rb'"stream"\s*:\s*true')
_JSON = b"application/json"
_SSE = b"text/event-stream; charset=utf-8"


def _head(status: bytes, content_type: bytes, framing: bytes, *, close: bool) -> bytes:
    lines = [
        b"HTTP/1.1 " + status,
        b"content-type: " + content_type,
        framing,
        b"x-request-id: req_bench",
    ]
    if close:
        lines.append(b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _whole(status: bytes, content_type: bytes, body: bytes, *, close: bool) -> bytes:
    framing = b"content-length: " + str(len(body)).encode()
    return _head(status, content_type, framing, close=close) + body


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


@dataclass(frozen=True, slots=True)
class Answers:
    """Every response the upstream sends, built once; index by `close` (False, True)."""

    completion: tuple[bytes, bytes]
    stream: tuple[bytes, bytes]
    not_found: tuple[bytes, bytes]
    paced_head: tuple[bytes, bytes]
    paced_chunks: tuple[bytes, ...]


def _pair(make: Callable[[bool], bytes]) -> tuple[bytes, bytes]:
    """The keep-alive and the `connection: close` variant, indexed by `close`."""
    keep, close = (make(close) for close in (False, True))
    return keep, close


def build_answers() -> Answers:
    events = payloads.stream_events()
    missing = b'{"error":{"type":"not_found","message":"only POST /v1/chat/completions"}}'
    completion = payloads.chat_completion()
    return Answers(
        completion=_pair(lambda close: _whole(b"200 OK", _JSON, completion, close=close)),
        stream=_pair(lambda close: _whole(b"200 OK", _SSE, b"".join(events), close=close)),
        not_found=_pair(lambda close: _whole(b"404 Not Found", _JSON, missing, close=close)),
        paced_head=_pair(
            lambda close: _head(b"200 OK", _SSE, b"transfer-encoding: chunked", close=close)
        ),
        paced_chunks=(*(_chunk(event) for event in events), b"0\r\n\r\n"),
    )


@dataclass(frozen=True, slots=True)
class Request:
    """What the upstream needs of one parsed request."""

    is_chat: bool
    is_stream: bool
    close: bool


def parse_request(buffer: bytearray) -> tuple[Request, int] | None:
    """The request at the front of `buffer` and its length, or None if incomplete.

    Raises ValueError on a request this server cannot frame (RFC 9112 section 6).
    """
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > _MAX_HEAD:
            msg = "request head too large"
            raise ValueError(msg)
        return None
    lines = bytes(buffer[:end]).split(b"\r\n")
    method, _, rest = lines[0].partition(b" ")
    target, _, version = rest.partition(b" ")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    start = end + 4
    if b"chunked" in headers.get(b"transfer-encoding", b""):
        framed = _chunked_body(buffer, start)
        if framed is None:
            return None
        body, stop = framed
    else:
        stop = start + int(headers.get(b"content-length", b"0"))
        if len(buffer) < stop:
            return None
        body = bytes(buffer[start:stop])
    connection = headers.get(b"connection", b"")
    close = b"close" in connection or (version == b"HTTP/1.0" and b"keep-alive" not in connection)
    is_chat = method == b"POST" and target.split(b"?")[0].endswith(b"/chat/completions")
    return Request(is_chat, _STREAM_TRUE.search(body) is not None, close), stop


def _chunked_body(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    parts: list[bytes] = []
    position = start
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
        data_start = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", line_end)
            return (b"".join(parts), trailer_end + 4) if trailer_end >= 0 else None
        if len(buffer) < data_start + size + 2:
            return None
        parts.append(bytes(buffer[data_start : data_start + size]))
        position = data_start + size + 2


class UpstreamProtocol(asyncio.Protocol):
    """One client connection; answers requests in order, pipelined or not."""

    def __init__(self, answers: Answers, *, paced: bool) -> None:
        self._answers = answers
        self._paced = paced
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._pacing: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: ARG002 - Protocol API
        if self._pacing is not None:
            self._pacing.cancel()
        self._transport = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._answer_pending()

    def _answer_pending(self) -> None:
        transport = self._transport
        while transport is not None and self._pacing is None:
            try:
                parsed = parse_request(self._buffer)
            except ValueError:
                transport.close()
                return
            if parsed is None:
                return
            request, length = parsed
            del self._buffer[:length]
            if request.is_chat and request.is_stream and self._paced:
                self._pacing = asyncio.ensure_future(
                    self._send_paced(transport, close=request.close)
                )
                return
            transport.write(self._whole_answer(request))
            if request.close:
                transport.close()
                return

    def _whole_answer(self, request: Request) -> bytes:
        if not request.is_chat:
            return self._answers.not_found[request.close]
        if request.is_stream:
            return self._answers.stream[request.close]
        return self._answers.completion[request.close]

    async def _send_paced(self, transport: asyncio.Transport, *, close: bool) -> None:
        loop = asyncio.get_running_loop()
        chunks = self._answers.paced_chunks
        start = loop.time()
        transport.write(self._answers.paced_head[close] + chunks[0])
        for index, chunk in enumerate(chunks[1:-1], start=1):
            # Pace against absolute times: the loop's timer rounds each sleep up, and
            # sleeping 5 ms twenty times would add that rounding up twenty times.
            await asyncio.sleep(max(0.0, start + index * payloads.PACE_SECONDS - loop.time()))
            transport.write(chunk)
        transport.write(chunks[-1])
        self._pacing = None
        if close:
            transport.close()
        else:
            self._answer_pending()


async def serve(host: str, port: int, paced_port: int) -> None:
    loop = asyncio.get_running_loop()
    answers = build_answers()
    fast = await loop.create_server(
        lambda: UpstreamProtocol(answers, paced=False), host, port, backlog=1024
    )
    paced = await loop.create_server(
        lambda: UpstreamProtocol(answers, paced=True), host, paced_port, backlog=1024
    )
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    fast_port = fast.sockets[0].getsockname()[1]
    paced_bound = paced.sockets[0].getsockname()[1]
    print(f"READY {fast_port} {paced_bound}", flush=True)
    async with fast, paced:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--paced-port", type=int, default=0)
    args = parser.parse_args()
    uvloop.run(serve(args.host, args.port, args.paced_port))


if __name__ == "__main__":
    main()
