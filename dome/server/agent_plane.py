"""The agent plane: one governed call from request bytes to relayed answer.

auth -> decode -> resolve -> attempt -> relay -> audit (DESIGN.md, "The life of one
call"). Policy, budgets and pools plug in between decode and attempt in later steps.
Every outcome, including failures, leaves exactly one audit record.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import orjson

from dome.errors import (
    DomeError,
    PolicyDeniedError,
    UnsupportedError,
)
from dome.providers.base import Provider, ProviderRequest
from dome.server.asgi import (
    JSON_HEADERS,
    ClientDisconnectedError,
    Message,
    Receive,
    Scope,
    Send,
    read_body,
    send_bytes,
)
from dome.server.auth import authenticate
from dome.server.authorization import authorize, call_context
from dome.server.relay import relay_stream, relay_whole
from dome.server.trace import CallIds, CallTrace
from dome.server.translated import relay_translated_stream, relay_translated_whole
from dome.wire.anthropic import digest_messages_request
from dome.wire.codecs import CHAT_CODECS, ChatCodec
from dome.wire.estimate import estimate_input_tokens
from dome.wire.facts import parse_json_object
from dome.wire.json_splice import replace_top_level_string
from dome.wire.profiles import EndpointProfile
from dome.wire.usage import ReportedUsage

if TYPE_CHECKING:
    from dome.server.runtime import Runtime

logger = logging.getLogger("dome.server")

_ESTIMATE_HEADERS = (*JSON_HEADERS, (b"x-dome-estimated", b"true"))


class AgentPlane:
    __slots__ = ("_ids", "_runtime")

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._ids = CallIds()

    async def handle(
        self, scope: Scope, receive: Receive, send: Send, profile: EndpointProfile
    ) -> None:
        trace = CallTrace(profile, self._ids.next())
        try:
            try:
                raw = await read_body(scope, receive, self._runtime.settings.max_body_bytes)
            except DomeError as error:
                await _reject(send, trace, error)
                return
            except ClientDisconnectedError:
                trace.fail(499, "client_disconnected")
                return
            await self._watched(scope, raw, receive, send, trace)
        finally:
            self._runtime.audit.submit(trace.to_row())

    async def _watched(
        self, scope: Scope, raw: bytes, receive: Receive, send: Send, trace: CallTrace
    ) -> None:
        """Run the call; if the agent hangs up first, cancel it, and so the upstream call.

        From here on `receive` belongs to the watcher alone; one extra task per call.
        """
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - always inside a task under an ASGI server
        watcher = asyncio.get_running_loop().create_task(_watch(receive, task, trace))
        try:
            await self._guarded(scope, raw, _marking_end(send, trace), trace)
        except asyncio.CancelledError:
            if not trace.disconnected:
                # The server cancelled the call: shutdown past its grace period.
                trace.fail(503, "broker_shutdown")
                raise
            task.uncancel()
            trace.fail(499, "client_disconnected")
        finally:
            watcher.cancel()

    async def _guarded(self, scope: Scope, raw: bytes, send: Send, trace: CallTrace) -> None:
        try:
            await self._call(scope, raw, send, trace)
        except DomeError as error:
            await _reject(send, trace, error)
        except Exception:  # the one broad handler: the agent still gets its own format
            logger.exception("call %s failed unexpectedly", trace.call_id)
            await _reject(send, trace, DomeError("the broker failed to handle this call"))

    async def _call(self, scope: Scope, raw: bytes, send: Send, trace: CallTrace) -> None:
        runtime = self._runtime
        profile = trace.profile
        trace.agent = authenticate(runtime, scope)
        body = parse_json_object(raw)
        facts = profile.read_facts(body)
        trace.requested_model, trace.stream = facts.model, facts.stream
        entry, provider = runtime.resolve(facts.model)
        trace.entry = entry
        context = call_context(runtime, scope, trace.agent, facts, body_size=len(raw))
        authorize(runtime, trace, trace.agent, profile.operation, (entry.name,), context)
        if provider.accepts(profile.format, profile.operation):
            await _pass_through(scope, raw, send, trace, provider, entry.model)
            return
        if profile.operation == "count_tokens":
            await _estimated_count(send, trace, body)
            return
        codecs = _translation(profile, provider)
        if codecs is None:
            msg = (
                f"model {facts.model!r} is served by a {entry.provider} provider, which does "
                f"not take {profile.operation} calls in any format the broker can translate to"
            )
            raise UnsupportedError(msg, param="model")
        await _translate(send, trace, provider, entry.model, body, codecs)


async def _pass_through(
    scope: Scope, raw: bytes, send: Send, trace: CallTrace, provider: Provider, model: str
) -> None:
    """Same format both sides: the agent's bytes go upstream with only the model patched."""
    profile = trace.profile
    body = raw
    if model != trace.requested_model:
        body = replace_top_level_string(raw, "model", model)
    request = ProviderRequest(
        format=profile.format,
        operation=profile.operation,
        body=body,
        stream=trace.stream,
        model=model,
        headers=_forwarded_headers(scope, profile.forwarded_headers),
    )
    if trace.stream:
        await relay_stream(provider, request, send, trace)
    else:
        await relay_whole(provider, request, send, trace)


async def _estimated_count(send: Send, trace: CallTrace, body: dict[str, Any]) -> None:
    """count_tokens for a provider that cannot count: an estimate, marked as one.

    The body keeps the Anthropic shape (the SDK reads `input_tokens`) and adds
    `"estimated": true`; the header says the same to clients that ignore the body.
    """
    tokens = estimate_input_tokens(digest_messages_request(body, counting=True))
    trace.status = 200
    trace.usage = ReportedUsage(
        raw={"input_tokens": tokens, "estimated": True}, input_tokens=tokens, output_tokens=None
    )
    answer = orjson.dumps({"input_tokens": tokens, "estimated": True})
    await send_bytes(send, 200, answer, _ESTIMATE_HEADERS)


def _translation(
    profile: EndpointProfile, provider: Provider
) -> tuple[ChatCodec, ChatCodec] | None:
    """(the agent's codec, the provider's) for a chat call the provider takes in
    another format; None when there is no such pair."""
    agent_codec = CHAT_CODECS.get(profile.format)
    if agent_codec is None or agent_codec.operation != profile.operation:
        return None
    for codec in CHAT_CODECS.values():
        if provider.accepts(codec.format, codec.operation):
            return agent_codec, codec
    return None


async def _translate(
    send: Send,
    trace: CallTrace,
    provider: Provider,
    model: str,
    body: dict[str, Any],
    codecs: tuple[ChatCodec, ChatCodec],
) -> None:
    agent_codec, provider_codec = codecs
    trace.format_out = provider_codec.format
    canonical = agent_codec.decode_request(body)
    encoded = provider_codec.encode_request(canonical, model)
    request = ProviderRequest(
        format=provider_codec.format,
        operation=provider_codec.operation,
        body=orjson.dumps(encoded),
        stream=canonical.stream,
        model=model,
    )
    if canonical.stream:
        await relay_translated_stream(provider, request, send, trace, codecs, canonical)
    else:
        await relay_translated_whole(provider, request, send, trace, codecs)


def _forwarded_headers(scope: Scope, names: frozenset[str]) -> dict[str, str]:
    if not names:
        return {}
    forwarded = {}
    for key, value in scope["headers"]:
        name = key.decode("latin-1")
        if name in names:
            forwarded[name] = value.decode("latin-1")
    return forwarded


async def _reject(send: Send, trace: CallTrace, error: DomeError) -> None:
    profile = trace.profile
    trace.fail(error.status_code, error.error_type)
    if trace.response_started:
        event = profile.stream_error_event(error.status_code, None, error.message)
        await send({"type": "http.response.body", "body": event, "more_body": False})
        return
    body = profile.error_body(error.status_code, None, error.message, param=error.param)
    headers: tuple[tuple[bytes, bytes], ...] = JSON_HEADERS
    if isinstance(error, PolicyDeniedError) and error.policy_ids:
        # Machine-readable for clients that do not parse the body (docs/policy.md).
        headers = (*JSON_HEADERS, (b"x-dome-policy", ",".join(error.policy_ids).encode()))
    await send_bytes(send, error.status_code, body, headers)


def _marking_end(send: Send, trace: CallTrace) -> Send:
    """`send`, noting when the last body message goes out (then a disconnect is normal)."""

    async def marked(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            trace.response_done = True
        await send(message)

    return marked


async def _watch(receive: Receive, task: asyncio.Task[None], trace: CallTrace) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # The server also reports a disconnect once the response is complete.
            if not trace.response_done:
                trace.disconnected = True
                task.cancel()
            return
