"""Same-format answers: attempted, then relayed to the agent byte for byte.

The relay only watches the bytes (usage, errors, the terminal event) and never buffers
a stream. A stream is held back until its first chunk arrived and carried no error
event (WIRE-FORMATS pitfall 5), so an early failure can still fail over.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from dome.errors import UpstreamError, UpstreamStreamError
from dome.providers.base import Provider, ProviderRequest, ProviderResponse
from dome.server.asgi import JSON_HEADERS, SSE_HEADERS, Send, encode_headers, send_bytes
from dome.server.attempt import Attempted, OpenStream, open_stream, then
from dome.server.trace import CallTrace
from dome.wire.model_name import StreamModelRenamer, renamed_answer
from dome.wire.openai.stream_usage import UsageHider
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
        trace.fail(response.status, "upstream_error", "upstream_error")
    headers = encode_headers(response.headers, JSON_HEADERS)
    await send_bytes(send, response.status, response.body, headers)


async def attempt_stream(
    provider: Provider,
    request: ProviderRequest,
    profile: EndpointProfile,
    first_byte_timeout: float,
    rename: str | None = None,
    *,
    hide_usage: bool = False,
) -> Attempted:
    """`hide_usage`: the broker asked for usage the agent did not (docs/usage.md)."""
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
            trace.fail(answer.status, "upstream_error", "upstream_error")
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

    edits = _stream_edits(request.model, rename, hide_usage=hide_usage)

    async def deliver(send: Send, trace: CallTrace) -> None:
        try:
            await _relay_events(stream, observer, send, trace, edits)
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
            usage=observer.usage,
        )
    return Attempted(ok=True, status=200, headers=upstream.headers, why="streamed", deliver=deliver)


async def _relay_events(
    stream: OpenStream,
    observer: StreamObserver,
    send: Send,
    trace: CallTrace,
    edits: StreamEdit | None,
) -> None:
    """The observer reads the provider's bytes; the agent gets them, edited if need be."""
    edit = (lambda chunk: chunk) if edits is None else edits.feed
    trace.mark_first_byte()
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": encode_headers(stream.upstream.headers, SSE_HEADERS),
    }
    await send(start)
    trace.response_started = True
    trace.status = 200
    await send({"type": "http.response.body", "body": edit(stream.first), "more_body": True})
    trace.delivered_events += stream.first.count(b"data:")
    broken: str | None = None
    try:
        async for chunk in then(stream):
            observer.feed(chunk)
            await send({"type": "http.response.body", "body": edit(chunk), "more_body": True})
            # What an interrupted stream is charged for, when its usage never came.
            trace.delivered_events += chunk.count(b"data:")
    except UpstreamStreamError as error:
        broken = error.message
    finally:
        trace.usage = observer.usage
    if edits is not None:
        await send({"type": "http.response.body", "body": edits.flush(), "more_body": True})
    if observer.error is not None:
        trace.fail(
            502, "upstream_stream_error", "upstream_error_midstream"
        )  # the provider sent its own error event
    elif broken is None and not observer.complete:
        broken = "the provider's stream ended without its final event"
    if broken is not None:
        # Never a clean end: the agent's SDK must raise, not return a partial answer.
        trace.fail(502, "upstream_stream_broken", "upstream_error_midstream")
        event = trace.profile.stream_error_event(500, None, broken)
        await send({"type": "http.response.body", "body": event, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def credential_rejected(status: int) -> UpstreamError:
    return UpstreamError(
        f"the provider rejected the broker's credential for this model (status {status}); "
        "an operator must fix it with 'dome model set-credential'"
    )


class StreamEdit(Protocol):
    def feed(self, chunk: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Chained:
    """Edits applied in order: each one's output is the next one's input."""

    __slots__ = ("_edits",)

    def __init__(self, edits: list[StreamEdit]) -> None:
        self._edits = edits

    def feed(self, chunk: bytes) -> bytes:
        for edit in self._edits:
            chunk = edit.feed(chunk)
        return chunk

    def flush(self) -> bytes:
        out = b""
        for edit in self._edits:
            out = edit.feed(out) + edit.flush()
        return out


def _stream_edits(model: str, rename: str | None, *, hide_usage: bool) -> StreamEdit | None:
    edits: list[StreamEdit] = []
    if rename is not None:
        edits.append(StreamModelRenamer(model, rename))
    if hide_usage:
        edits.append(UsageHider())
    if not edits:
        return None
    return edits[0] if len(edits) == 1 else _Chained(edits)
