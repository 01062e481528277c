"""A minimal HTTP/1.1 client on one keep-alive connection, for checks and the probe.

It times the arrival of the first body bytes holding `data:` and of the end of the body.
No TLS, redirects, retries or pooling: the benchmark needs exact control of one socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import TypeVar

import uvloop

_T = TypeVar("_T")

_READ_SIZE = 65536


@dataclass(frozen=True, slots=True)
class Response:
    """One answer; times are `time.perf_counter_ns()` values."""

    status: int
    headers: dict[str, str]
    body: bytes
    sent_ns: int
    first_data_ns: int | None
    end_ns: int

    @property
    def data_events(self) -> int:
        return sum(1 for line in self.body.split(b"\n") if line.startswith(b"data:"))


class _BodyClock:
    """Collects body pieces and notes when `data:` first shows up."""

    __slots__ = ("first_data_ns", "pieces")

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.first_data_ns: int | None = None

    def add(self, piece: bytes) -> None:
        self.pieces.append(piece)
        if self.first_data_ns is None and b"data:" in b"".join(self.pieces[-2:]):
            self.first_data_ns = time.perf_counter_ns()


class Connection:
    """One TCP connection; requests go one at a time."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._host = host

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def post(
        self, path: str, body: bytes, extra_headers: Sequence[tuple[str, str]] = ()
    ) -> Response:
        """POST a JSON body with host, content-type, accept, length and `extra_headers`."""
        lines = [
            f"POST {path} HTTP/1.1",
            f"host: {self._host}",
            "content-type: application/json",
            "accept: */*",
            f"content-length: {len(body)}",
        ]
        lines += [f"{name}: {value}" for name, value in extra_headers]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        sent_ns = time.perf_counter_ns()
        self._writer.write(head + body)
        status, headers = await self._read_head()
        clock = _BodyClock()
        if "chunked" in headers.get("transfer-encoding", ""):
            await self._read_chunked(clock)
        elif "content-length" in headers:
            await self._read_length(int(headers["content-length"]), clock)
        else:
            await self._read_to_eof(clock)
        return Response(
            status,
            headers,
            b"".join(clock.pieces),
            sent_ns,
            clock.first_data_ns,
            time.perf_counter_ns(),
        )

    async def _read_head(self) -> tuple[int, dict[str, str]]:
        raw = await self._reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip().lower()
        return status, headers

    async def _read_length(self, length: int, clock: _BodyClock) -> None:
        remaining = length
        while remaining > 0:
            piece = await self._reader.read(min(remaining, _READ_SIZE))
            if not piece:  # the peer closed early: what asyncio itself raises then
                partial = b"".join(clock.pieces)
                raise asyncio.IncompleteReadError(partial, length)
            clock.add(piece)
            remaining -= len(piece)

    async def _read_chunked(self, clock: _BodyClock) -> None:
        while True:
            size_line = await self._reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                # No trailers are expected: what is left is the final CRLF.
                await self._reader.readuntil(b"\r\n")
                return
            clock.add((await self._reader.readexactly(size + 2))[:-2])

    async def _read_to_eof(self, clock: _BodyClock) -> None:
        while piece := await self._reader.read(_READ_SIZE):
            clock.add(piece)


def run_client(main: Coroutine[object, object, _T]) -> _T:
    """Run a client coroutine on a fresh uvloop event loop, the broker's loop type."""
    return uvloop.run(main)
