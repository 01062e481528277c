"""Same-format answers: attempted, then relayed to the agent byte for byte.

The relay only watches the bytes (usage, errors, the terminal event) and never buffers
a stream. A stream is held back until its first chunk arrived and carried no error
event (WIRE-FORMATS pitfall 5), so an early failure can still fail over.
"""

from __future__ import annotations

from dataclasses import replace

from dome.errors import UpstreamError, UpstreamStreamError
from dome.providers.base import Provider, ProviderRequest, ProviderResponse
from dome.server.asgi import JSON_HEADERS, SSE_HEADERS, Send, encode_headers, send_bytes
from dome.server.attempt import Attempted, OpenStream, open_stream, then
from dome.server.trace import CallTrace
from dome.wire.model_name import StreamModelRenamer, renamed_answer
from dome.wire.profiles import EndpointProfile, StreamObserver

# The provider refusing *our* credential is not the agent's fault: answering 401/403
# would blame the agent's Dome token (WIRE-FORMATS 6.5).
CREDENTIAL_STATUSES = frozenset({401, 403})


async def attempt_whole(
    provider: Provider, request: ProviderRequest, rename: str | None = None
) -> Attempted:
    """`rename`: the model name the answer must carry (a pool served the call)."""
    response = await provider.send(request)
    if rename is not None and response.status < 400:
        response = replace(response, body=renamed_answer(response.body, rename))

    async def deliver(send: Send, trace: CallTrace) -> None:
        await deliver_whole(response, send, trace)

    ok = response.status < 400
    why = "answered" if ok else f"provider answered {response.status}"
    return Attempted(
        ok=ok, status=response.status, headers=response.headers, why=why, deliver=deliver
    )


async def deliver_whole(response: ProviderResponse, send: Send, trace: CallTrace) -> None:
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


async def attempt_stream(
    provider: Provider,
    request: ProviderRequest,
    profile: EndpointProfile,
    first_byte_timeout: float,
    rename: str | None = None,
) -> Attempted:
    upstream = await provider.stream(request)
    if upstream.status >= 400:
        # An error before the stream began is an ordinary error answer.
        try:
            body = await upstream.read()
        finally:
            await upstream.aclose()
        answer = ProviderResponse(upstream.status, upstream.headers, body)

        async def deliver_error(send: Send, trace: CallTrace) -> None:
            trace.mark_first_byte()
            if answer.status in CREDENTIAL_STATUSES:
                raise credential_rejected(answer.status)
            trace.fail(answer.status, "upstream_error")
            await send_bytes(
                send, answer.status, answer.body, encode_headers(answer.headers, JSON_HEADERS)
            )

        why = f"provider answered {upstream.status}"
        return Attempted(
            ok=False,
            status=upstream.status,
            headers=upstream.headers,
            why=why,
            deliver=deliver_error,
        )
    try:
        stream = await open_stream(upstream, first_byte_timeout)
    except BaseException:
        await upstream.aclose()
        raise
    observer = profile.new_observer()
    observer.feed(stream.first)

    renamer = None if rename is None else StreamModelRenamer(request.model, rename)

    async def deliver(send: Send, trace: CallTrace) -> None:
        try:
            await _relay_events(stream, observer, send, trace, renamer)
        finally:
            await upstream.aclose()

    if observer.error is not None:
        # A 200 whose first event is an error (overloaded, ...): not an answer.
        error = observer.error.get("type") or "error"
        why = f"provider stream began with {error}"
        return Attempted(
            ok=False,
            status=200,
            headers=upstream.headers,
            why=why,
            deliver=deliver,
            discard=upstream.aclose,
        )
    return Attempted(ok=True, status=200, headers=upstream.headers, why="streamed", deliver=deliver)


async def _relay_events(
    stream: OpenStream,
    observer: StreamObserver,
    send: Send,
    trace: CallTrace,
    renamer: StreamModelRenamer | None,
) -> None:
    """The observer reads the provider's bytes; the agent gets them, renamed if need be."""
    rename = (lambda chunk: chunk) if renamer is None else renamer.feed
    trace.mark_first_byte()
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": encode_headers(stream.upstream.headers, SSE_HEADERS),
    }
    await send(start)
    trace.response_started = True
    trace.status = 200
    await send({"type": "http.response.body", "body": rename(stream.first), "more_body": True})
    broken: str | None = None
    try:
        async for chunk in then(stream):
            observer.feed(chunk)
            await send({"type": "http.response.body", "body": rename(chunk), "more_body": True})
    except UpstreamStreamError as error:
        broken = error.message
    finally:
        trace.usage = observer.usage
    if renamer is not None:
        await send({"type": "http.response.body", "body": renamer.flush(), "more_body": True})
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
