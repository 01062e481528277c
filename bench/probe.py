"""The paced streaming probe: sequential streams on one keep-alive connection, timed.

Against the paced upstream (21 events, 5 ms apart) it measures, per request, the time to
the first `data:` byte and to the end of the stream (the end of the response body), as
seen by the agent. It counts the stream's events the target's format cares about: all
`data:` events in OpenAI format; in Anthropic format the content events
(`content_block_delta`), after checking the whole event sequence and that it ends with
`message_stop`.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from http import HTTPStatus

import payloads
from dialects import Dialect
from http1 import Connection, Response, run_client
from processes import BenchError


@dataclass(frozen=True, slots=True)
class ProbeResult:
    requests: int
    first_p50_ms: float
    first_p99_ms: float
    total_p50_ms: float
    total_p99_ms: float
    min_events: int
    counted: str  # which events min_events counts: "data" or "content"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


def _count_events(response: Response, dialect: Dialect) -> int:
    """The stream's counted events; BenchError if it failed or is incomplete."""
    if response.status == HTTPStatus.OK and response.first_data_ns is not None:
        try:
            return dialect.stream_events(response)
        except ValueError as error:
            problem = str(error)
    else:
        problem = f"status {response.status}"
    msg = f"paced stream failed: {problem}, body {response.body[:300]!r}"
    raise BenchError(msg)


async def _probe(
    port: int, dialect: Dialect, token: str | None, requests: int, warmup: int
) -> ProbeResult:
    body = dialect.body(payloads.PACED_MODEL, stream=True)
    headers = dialect.headers(token)
    connection = await Connection.open("127.0.0.1", port)
    first: list[float] = []
    total: list[float] = []
    events: list[int] = []
    try:
        for index in range(warmup + requests):
            response = await connection.post(dialect.path, body, headers)
            count = _count_events(response, dialect)
            if index >= warmup:
                first.append((response.first_data_ns or 0) - response.sent_ns)
                total.append(response.end_ns - response.sent_ns)
                events.append(count)
    finally:
        await connection.close()
    return ProbeResult(
        requests=len(first),
        first_p50_ms=percentile(first, 50) / 1e6,
        first_p99_ms=percentile(first, 99) / 1e6,
        total_p50_ms=percentile(total, 50) / 1e6,
        total_p99_ms=percentile(total, 99) / 1e6,
        min_events=min(events),
        counted=dialect.counted,
    )


def run_probe(
    port: int, dialect: Dialect, token: str | None, *, requests: int, warmup: int = 3
) -> ProbeResult:
    """Run the probe on a fresh event loop, bounded by a generous timeout."""
    limit = 30 + (warmup + requests) * 1.0

    async def bounded() -> ProbeResult:
        async with asyncio.timeout(limit):
            return await _probe(port, dialect, token, requests, warmup)

    started = time.monotonic()
    try:
        return run_client(bounded())
    except TimeoutError as exc:
        msg = f"the paced probe did not finish within {time.monotonic() - started:.0f} s"
        raise BenchError(msg) from exc
