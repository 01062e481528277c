"""One upstream attempt, held back from the agent until it is known to be good.

An attempt opens the provider's answer and stops there: a whole answer is read, a
stream is read up to its first event. Nothing has reached the agent yet, so a failed
attempt can still be replaced by the next candidate (failover is invisible). The result
carries how to deliver it: the answer itself, or, when it is the last word, the error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from dome.errors import DomeError, UpstreamStreamError, UpstreamTimeoutError
from dome.providers.base import ProviderStream
from dome.server.asgi import Send
from dome.server.trace import CallTrace
from dome.wire.usage import ReportedUsage

Deliver = Callable[[Send, CallTrace], Awaitable[None]]
Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Attempted:
    """What one attempt produced. `ok` means deliverable as a success."""

    ok: bool
    status: int | None  # the provider's HTTP status; None when it never answered
    headers: Headers  # the provider's relayed headers (Retry-After lives here)
    why: str  # for the audit: what happened, in a few words
    deliver: Deliver
    failure: DomeError | None = None  # the broker's own error, when it has one
    # Releases what an undelivered attempt holds open (a stream that began with an error).
    discard: Callable[[], Awaitable[None]] | None = None
    # What a failed attempt reported using (a stream that began, then failed); the
    # delivered attempt's usage is read while it is delivered.
    usage: ReportedUsage | None = None


def raised(error: DomeError) -> Attempted:
    """An attempt that failed before any answer: the agent gets `error` if it is last."""

    async def deliver(_send: Send, _trace: CallTrace) -> None:
        raise error

    return Attempted(
        ok=False, status=None, headers=(), why=error.message, deliver=deliver, failure=error
    )


@dataclass(slots=True)
class OpenStream:
    """A provider stream read up to its first chunk; the rest is still upstream."""

    upstream: ProviderStream
    first: bytes
    rest: AsyncIterator[bytes]


async def open_stream(upstream: ProviderStream, first_byte_timeout: float) -> OpenStream:
    """The stream with its first chunk in hand.

    Raises:
        UpstreamStreamError: the stream ended or broke before its first chunk.
        UpstreamTimeoutError: no first chunk within `first_byte_timeout` seconds.
    """
    chunks = upstream.chunks().__aiter__()
    try:
        first = await asyncio.wait_for(anext(chunks), first_byte_timeout)
    except StopAsyncIteration as exc:
        msg = "the provider's stream ended before its first event"
        raise UpstreamStreamError(msg) from exc
    except TimeoutError as exc:
        msg = f"the provider sent no first event within {first_byte_timeout:g} s"
        raise UpstreamTimeoutError(msg) from exc
    return OpenStream(upstream, first, chunks)


async def next_first_event_chunk(stream: OpenStream, first_byte_timeout: float) -> bytes:
    """Another chunk while the first event is still incomplete.

    Raises:
        UpstreamStreamError: the stream ended before its first event.
        UpstreamTimeoutError: the provider stalled past `first_byte_timeout`.
    """
    try:
        return await asyncio.wait_for(anext(stream.rest), first_byte_timeout)
    except StopAsyncIteration as exc:
        msg = "the provider's stream ended before its first event"
        raise UpstreamStreamError(msg) from exc
    except TimeoutError as exc:
        msg = f"the provider stalled for {first_byte_timeout:g} s before its first event"
        raise UpstreamTimeoutError(msg) from exc


async def then(stream: OpenStream) -> AsyncIterator[bytes]:
    """The rest of the stream's chunks."""
    async for chunk in stream.rest:
        yield chunk
