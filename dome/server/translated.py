"""Relaying an answer across formats: the provider's format decoded, the agent's encoded.

The stream is translated event by event as it arrives, never buffered. Until the first
translated frame exists nothing is sent, so a stream that fails before its first event
is a failed attempt (WIRE-FORMATS pitfall 5): failover can act on it, and the agent
gets a real error status if no other candidate answers.
"""

from __future__ import annotations

import time
from dataclasses import replace

from dome.errors import UpstreamStreamError
from dome.providers.base import Provider, ProviderRequest
from dome.server.asgi import JSON_HEADERS, SSE_HEADERS, Send, encode_headers, send_bytes
from dome.server.attempt import Attempted, OpenStream, next_first_event_chunk, open_stream, then
from dome.server.relay import CREDENTIAL_STATUSES, credential_rejected
from dome.server.trace import CallTrace
from dome.wire.canonical import (
    Failure,
    MessageDelta,
    MessageStart,
    Request,
    StreamEvent,
    Usage,
    merged_usage,
)
from dome.wire.codecs import ChatCodec, StreamEncoder
from dome.wire.usage import ReportedUsage


async def attempt_translated_whole(
    provider: Provider,
    request: ProviderRequest,
    codecs: tuple[ChatCodec, ChatCodec],
    rename: str | None = None,
) -> Attempted:
    """`codecs` is (the agent's, the provider's); `rename` the model name to answer with."""
    agent_codec, provider_codec = codecs
    response = await provider.send(request)
    if response.status >= 400:
        return _failed(response.status, response.body, response.headers, codecs)
    # Decoded now: an answer the broker cannot read is a failed attempt, not a success.
    answer = provider_codec.decode_response(response.body)
    if rename is not None:
        answer = replace(answer, model=rename)

    async def deliver(send: Send, trace: CallTrace) -> None:
        trace.mark_first_byte()
        trace.status = 200
        trace.usage = reported_usage(answer.usage)
        body = agent_codec.encode_response(answer, int(time.time()))
        await send_bytes(send, 200, body, encode_headers(response.headers, JSON_HEADERS))

    return Attempted(ok=True, status=200, headers=response.headers, why="answered", deliver=deliver)


async def attempt_translated_stream(
    provider: Provider,
    request: ProviderRequest,
    codecs: tuple[ChatCodec, ChatCodec],
    canonical: Request,
    first_byte_timeout: float,
    rename: str | None = None,
) -> Attempted:
    """The stream is held back until it yields its first translated event."""
    agent_codec, provider_codec = codecs
    upstream = await provider.stream(request)
    if upstream.status >= 400:
        try:
            body = await upstream.read()
        finally:
            await upstream.aclose()
        return _failed(upstream.status, body, upstream.headers, codecs)
    translator = _StreamTranslator(
        provider_codec, agent_codec.new_stream_encoder(canonical, int(time.time())), rename
    )
    try:
        stream = await open_stream(upstream, first_byte_timeout)
        frames = translator.translate(stream.first)
        while not frames:
            frames = translator.translate(await next_first_event_chunk(stream, first_byte_timeout))
    except BaseException:
        await upstream.aclose()
        raise

    async def deliver(send: Send, trace: CallTrace) -> None:
        try:
            await _relay_translated(stream, translator, frames, send, trace)
        finally:
            await upstream.aclose()

    return Attempted(ok=True, status=200, headers=upstream.headers, why="streamed", deliver=deliver)


async def _relay_translated(
    stream: OpenStream, translator: _StreamTranslator, first: bytes, send: Send, trace: CallTrace
) -> None:
    trace.mark_first_byte()
    broken: str | None = None
    try:
        await _send_frames(send, trace, first, stream.upstream.headers)
        async for chunk in then(stream):
            frames = translator.translate(chunk)
            if frames:
                await _send_frames(send, trace, frames, stream.upstream.headers)
    except UpstreamStreamError as error:
        broken = error.message
    finally:
        trace.usage = translator.usage
    if broken is None and not translator.complete:
        broken = "the provider's stream ended without its final event"
    if broken is None:
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    await _send_broken(send, trace, broken)


def _failed(
    status: int,
    body: bytes,
    headers: tuple[tuple[str, str], ...],
    codecs: tuple[ChatCodec, ChatCodec],
) -> Attempted:
    """A provider error answer, rendered for the agent if it turns out to be the last."""
    agent_codec, provider_codec = codecs

    async def deliver(send: Send, trace: CallTrace) -> None:
        trace.mark_first_byte()
        if status in CREDENTIAL_STATUSES:
            raise credential_rejected(status)
        failure = provider_codec.read_failure(status, body)
        await _send_failure(send, trace, agent_codec, failure, headers)

    return Attempted(
        ok=False, status=status, headers=headers, why=f"provider answered {status}", deliver=deliver
    )


class _StreamTranslator:
    """Provider stream bytes to agent SSE frames; notes the usage as it passes."""

    __slots__ = ("_decoder", "_encoder", "_final", "_rename", "_start")

    def __init__(
        self, provider_codec: ChatCodec, encoder: StreamEncoder, rename: str | None
    ) -> None:
        self._decoder = provider_codec.new_stream_decoder()
        self._encoder = encoder
        self._rename = rename
        self._start: Usage | None = None
        self._final: Usage | None = None

    @property
    def complete(self) -> bool:
        return self._decoder.complete

    @property
    def usage(self) -> ReportedUsage | None:
        if self._start is None:
            return None
        final = self._final or Usage()
        return reported_usage(merged_usage(self._start, final))

    def translate(self, chunk: bytes) -> bytes:
        frames: list[bytes] = []
        for decoded in self._decoder.feed(chunk):
            event = decoded
            if self._rename is not None and isinstance(event, MessageStart):
                event = replace(event, model=self._rename)
            self._note(event)
            frames.extend(self._encoder.frames(event))
        return b"".join(frames)

    def _note(self, event: StreamEvent) -> None:
        if isinstance(event, MessageStart):
            self._start = event.usage
        elif isinstance(event, MessageDelta):
            self._final = event.usage


async def _send_frames(
    send: Send, trace: CallTrace, frames: bytes, relayed: tuple[tuple[str, str], ...]
) -> None:
    if not trace.response_started:
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": encode_headers(relayed, SSE_HEADERS),
        }
        await send(start)
        trace.response_started = True
        trace.status = 200
    await send({"type": "http.response.body", "body": frames, "more_body": True})
    trace.delivered_events += frames.count(b"data:")


async def _send_broken(send: Send, trace: CallTrace, reason: str) -> None:
    """Never a clean end: the agent's SDK must raise, not return a partial answer."""
    trace.fail(502, "upstream_stream_broken", "upstream_error_midstream")
    profile = trace.profile
    if not trace.response_started:
        body = profile.error_body(502, None, reason)
        await send_bytes(send, 502, body, JSON_HEADERS)
        return
    event = profile.stream_error_event(500, None, reason)
    await send({"type": "http.response.body", "body": event, "more_body": False})


async def _send_failure(
    send: Send,
    trace: CallTrace,
    agent_codec: ChatCodec,
    failure: Failure,
    relayed: tuple[tuple[str, str], ...],
) -> None:
    status, body = agent_codec.render_failure(failure)
    trace.fail(status, "upstream_error", "upstream_error")
    await send_bytes(send, status, body, encode_headers(relayed, JSON_HEADERS))


def reported_usage(usage: Usage) -> ReportedUsage:
    """Canonical usage in the broker's vocabulary (docs/usage.md), for the audit record.

    Canonical `input_tokens` excludes the cache (WIRE-FORMATS 6.3); the broker's counts
    the cache too, so a translated call reports what the same answer forwarded would.
    `raw` keeps the canonical quantities, the provider's own fields being gone.
    """
    raw = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }
    total_input = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
    return ReportedUsage(
        raw=raw,
        input_tokens=total_input,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        reasoning_tokens=usage.reasoning_tokens,
    )
