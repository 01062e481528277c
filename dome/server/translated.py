"""Relaying an answer across formats: the provider's format decoded, the agent's encoded.

The stream is translated event by event as it arrives, never buffered. Until the first
translated frame exists nothing is sent, so a stream that fails before its first event
still gets a real error status (WIRE-FORMATS pitfall 5), which failover can act on.
"""

from __future__ import annotations

import time

from dome.errors import UpstreamStreamError
from dome.providers.base import Provider, ProviderRequest
from dome.server.asgi import JSON_HEADERS, SSE_HEADERS, Send, encode_headers, send_bytes
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


async def relay_translated_whole(
    provider: Provider,
    request: ProviderRequest,
    send: Send,
    trace: CallTrace,
    codecs: tuple[ChatCodec, ChatCodec],
) -> None:
    """`codecs` is (the agent's, the provider's)."""
    agent_codec, provider_codec = codecs
    response = await provider.send(request)
    trace.mark_first_byte()
    if response.status in CREDENTIAL_STATUSES:
        raise credential_rejected(response.status)
    if response.status >= 400:
        failure = provider_codec.read_failure(response.status, response.body)
        await _send_failure(send, trace, agent_codec, failure, response.headers)
        return
    answer = provider_codec.decode_response(response.body)
    trace.status = 200
    trace.usage = reported_usage(answer.usage)
    body = agent_codec.encode_response(answer, int(time.time()))
    await send_bytes(send, 200, body, encode_headers(response.headers, JSON_HEADERS))


async def relay_translated_stream(
    provider: Provider,
    request: ProviderRequest,
    send: Send,
    trace: CallTrace,
    codecs: tuple[ChatCodec, ChatCodec],
    canonical: Request,
) -> None:
    agent_codec, provider_codec = codecs
    upstream = await provider.stream(request)
    try:
        if upstream.status >= 400:
            body = await upstream.read()
            trace.mark_first_byte()
            if upstream.status in CREDENTIAL_STATUSES:
                raise credential_rejected(upstream.status)
            failure = provider_codec.read_failure(upstream.status, body)
            await _send_failure(send, trace, agent_codec, failure, upstream.headers)
            return
        translator = _StreamTranslator(
            provider_codec, agent_codec.new_stream_encoder(canonical, int(time.time()))
        )
        broken: str | None = None
        try:
            async for chunk in upstream.chunks():
                trace.mark_first_byte()
                frames = translator.translate(chunk)
                if frames:
                    await _send_frames(send, trace, frames, upstream.headers)
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
    finally:
        await upstream.aclose()


class _StreamTranslator:
    """Provider stream bytes to agent SSE frames; notes the usage as it passes."""

    __slots__ = ("_decoder", "_encoder", "_final", "_start")

    def __init__(self, provider_codec: ChatCodec, encoder: StreamEncoder) -> None:
        self._decoder = provider_codec.new_stream_decoder()
        self._encoder = encoder
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
        for event in self._decoder.feed(chunk):
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


async def _send_broken(send: Send, trace: CallTrace, reason: str) -> None:
    """Never a clean end: the agent's SDK must raise, not return a partial answer."""
    trace.fail(502, "upstream_stream_broken")
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
    trace.fail(status, "upstream_error")
    await send_bytes(send, status, body, encode_headers(relayed, JSON_HEADERS))


def reported_usage(usage: Usage) -> ReportedUsage:
    """Canonical usage for the audit record; input counts cached tokens too."""
    raw = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }
    total_input = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
    return ReportedUsage(raw=raw, input_tokens=total_input, output_tokens=usage.output_tokens)
