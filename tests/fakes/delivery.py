"""Sending a fake's answer the way its behaviour says: paced, gated, cut or broken.

Vendor modules build complete bodies and event lists; this module decides how
much of them reaches the socket and when. It knows no vendor format beyond SSE
framing (the WHATWG `text/event-stream` grammar).
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from starlette.responses import Response, StreamingResponse

from tests.fakes.behaviour import (
    SLOW_EVENT_INTERVAL,
    SLOW_RESPONSE_DELAY,
    Behaviour,
    is_partial,
)
from tests.fakes.gate import StreamGate

JSON_MEDIA_TYPE = "application/json"
SSE_MEDIA_TYPE = "text/event-stream"
BAD_JSON = "this is not JSON {"
"""What `bad-json` sends where JSON belongs."""


class StreamCutError(Exception):
    """Raised on purpose inside a body iterator so the server aborts the response.

    uvicorn closes the connection without the terminating chunk, so the client
    sees a truncated chunked body (and logs "Exception in ASGI application").
    """


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One SSE event: an optional `event:` line and a single `data:` line."""

    data: str
    event: str | None = None

    def encode(self) -> bytes:
        head = f"event: {self.event}\n" if self.event is not None else ""
        return f"{head}data: {self.data}\n\n".encode()


def stream_response(
    events: Sequence[SseEvent],
    behaviour: Behaviour,
    gate: StreamGate,
    headers: Mapping[str, str],
) -> StreamingResponse:
    """An SSE response sending `events` as `behaviour` dictates.

    The stream pauses at `gate` after its first event, for every behaviour.
    """
    frames = _frames_for(events, behaviour)
    if behaviour is Behaviour.STREAM_OVERLOADED:
        raise ValueError("stream-overloaded streams are vendor-built: use failing_stream")
    interval = SLOW_EVENT_INTERVAL if behaviour is Behaviour.SLOW else 0.0
    body = _paced(frames, gate, interval=interval, cut=behaviour is Behaviour.STREAM_CUT)
    sse_headers = {**headers, "cache-control": "no-cache"}
    return StreamingResponse(body, headers=sse_headers, media_type=SSE_MEDIA_TYPE)


def failing_stream(
    first: SseEvent, error: SseEvent, headers: Mapping[str, str]
) -> StreamingResponse:
    """A stream that sends its first event and an error event in one write, then ends."""

    async def body() -> AsyncIterator[bytes]:
        yield first.encode() + error.encode()

    sse_headers = {**headers, "cache-control": "no-cache"}
    return StreamingResponse(body(), headers=sse_headers, media_type=SSE_MEDIA_TYPE)


async def body_response(body: bytes, behaviour: Behaviour, headers: Mapping[str, str]) -> Response:
    """A non-streaming JSON response carrying `body` as `behaviour` dictates."""
    if behaviour is Behaviour.SLOW:
        await asyncio.sleep(SLOW_RESPONSE_DELAY)
    shape = _BODY_SHAPES.get(behaviour, _whole_body)
    return shape(body, headers)


def partial_count(total: int) -> int:
    """How many of `total` events a partial stream sends: the first half, >= 1."""
    return max(1, total // 2)


def _frames_for(events: Sequence[SseEvent], behaviour: Behaviour) -> list[SseEvent]:
    if behaviour is Behaviour.BAD_JSON:
        return [replace(events[0], data=BAD_JSON)]
    if is_partial(behaviour):
        return list(events[: partial_count(len(events))])
    return list(events)


async def _paced(
    frames: Sequence[SseEvent], gate: StreamGate, *, interval: float, cut: bool
) -> AsyncIterator[bytes]:
    for position, frame in enumerate(frames):
        if position and interval:
            await asyncio.sleep(interval)
        yield frame.encode()
        if position == 0:
            await gate.passage()
    if cut:
        message = "fake upstream cut the stream on purpose (behaviour stream-cut)"
        raise StreamCutError(message)


def _whole_body(body: bytes, headers: Mapping[str, str]) -> Response:
    return Response(body, headers=dict(headers), media_type=JSON_MEDIA_TYPE)


def _half_body(body: bytes, headers: Mapping[str, str]) -> Response:
    return _whole_body(body[: len(body) // 2], headers)


def _bad_body(_body: bytes, headers: Mapping[str, str]) -> Response:
    return _whole_body(BAD_JSON.encode(), headers)


def _cut_body(body: bytes, headers: Mapping[str, str]) -> Response:
    async def half_then_cut() -> AsyncIterator[bytes]:
        yield body[: len(body) // 2]
        message = "fake upstream cut the body on purpose (behaviour stream-cut)"
        raise StreamCutError(message)

    return StreamingResponse(half_then_cut(), headers=dict(headers), media_type=JSON_MEDIA_TYPE)


_BODY_SHAPES: dict[Behaviour, Callable[[bytes, Mapping[str, str]], Response]] = {
    Behaviour.STREAM_CUT: _cut_body,
    Behaviour.STREAM_TRUNCATED_CLEAN: _half_body,
    Behaviour.BAD_JSON: _bad_body,
}
