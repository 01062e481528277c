"""Relaying a provider's answer to the agent: whole, or event by event as it arrives.

Same-format answers pass through byte for byte. The relay only watches the bytes
(usage, errors, the terminal event) and never buffers a stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from dome.errors import UpstreamError, UpstreamStreamError
from dome.providers.base import Provider, ProviderRequest
from dome.server.asgi import JSON_HEADERS, SSE_HEADERS, Send, encode_headers, send_bytes
from dome.server.trace import CallTrace

# The provider refusing *our* credential is not the agent's fault: answering 401/403
# would blame the agent's Dome token (WIRE-FORMATS 6.5).
CREDENTIAL_STATUSES = frozenset({401, 403})


async def relay_whole(
    provider: Provider, request: ProviderRequest, send: Send, trace: CallTrace
) -> None:
    response = await provider.send(request)
    trace.mark_first_byte()
    if response.status in CREDENTIAL_STATUSES:
        raise credential_rejected(response.status)
    trace.status = response.status
    if response.status < 400:
        trace.usage = trace.profile.usage_from_body(response.body)
    else:
        trace.error_type = "upstream_error"
    headers = encode_headers(response.headers, JSON_HEADERS)
    await send_bytes(send, response.status, response.body, headers)


async def relay_stream(
    provider: Provider, request: ProviderRequest, send: Send, trace: CallTrace
) -> None:
    upstream = await provider.stream(request)
    try:
        if upstream.status >= 400:
            # An error before the stream began is an ordinary error answer.
            body = await upstream.read()
            trace.mark_first_byte()
            if upstream.status in CREDENTIAL_STATUSES:
                raise credential_rejected(upstream.status)
            trace.fail(upstream.status, "upstream_error")
            await send_bytes(
                send, upstream.status, body, encode_headers(upstream.headers, JSON_HEADERS)
            )
            return
        await _relay_events(upstream.chunks(), upstream.headers, send, trace)
    finally:
        await upstream.aclose()


async def _relay_events(
    chunks: AsyncIterator[bytes], relayed: tuple[tuple[str, str], ...], send: Send, trace: CallTrace
) -> None:
    observer = trace.profile.new_observer()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": encode_headers(relayed, SSE_HEADERS),
        }
    )
    trace.response_started = True
    trace.status = 200
    broken: str | None = None
    try:
        async for chunk in chunks:
            trace.mark_first_byte()
            observer.feed(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except UpstreamStreamError as error:
        broken = error.message
    finally:
        trace.usage = observer.usage
    if observer.error is not None:
        trace.fail(502, "upstream_stream_error")  # the provider sent its own error event
    elif broken is None and not observer.complete:
        broken = "the provider's stream ended without its final event"
    if broken is not None:
        # Never a clean end: the agent's SDK must raise, not return a partial answer.
        trace.fail(502, "upstream_stream_broken")
        event = trace.profile.stream_error_event(500, None, broken)
        await send({"type": "http.response.body", "body": event, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def credential_rejected(status: int) -> UpstreamError:
    return UpstreamError(
        f"the provider rejected the broker's credential for this model (status {status}); "
        "an operator must fix it with 'dome model set-credential'"
    )
