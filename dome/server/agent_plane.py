"""The agent plane: one governed call from request bytes to relayed answer.

auth -> decode -> route plan -> policy -> budget -> durable start record -> attempt(s)
-> relay -> settle + audit (DESIGN.md, "The life of one call"). Every call leaves one
end record, plus a start record and one record per attempt when it reached a provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import orjson

from dome.errors import DomeError
from dome.server import spending
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
from dome.server.authorization import authorize, call_context, input_estimate
from dome.server.failover import serve
from dome.server.forward import Forwarder
from dome.server.outcomes import error_headers, outcome_of, wire_error_type
from dome.server.route_plan import plan_route
from dome.server.trace import CallIds, CallTrace
from dome.wire.anthropic import digest_messages_request
from dome.wire.estimate import estimate_input_tokens
from dome.wire.facts import parse_json_object
from dome.wire.profiles import EndpointProfile
from dome.wire.usage import counted_usage

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
                trace.fail(499, "client_disconnected", "client_disconnected")
                return
            await self._watched(scope, raw, receive, send, trace)
        finally:
            self._finish(trace)

    def _finish(self, trace: CallTrace) -> None:
        """Usage, cost and settlement of the call, and its audit records; never waits."""
        runtime = self._runtime
        trace.figures = spending.figures(trace)
        if trace.hold is not None:
            runtime.spawn(spending.settle(runtime, trace.hold, trace.figures))
        audit = runtime.audit
        for row in trace.attempt_rows():
            audit.submit(row)
        end = trace.end_row()
        audit.submit(end)
        runtime.figures.observe(end)

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
                trace.fail(503, "broker_shutdown", "aborted_shutdown")
                raise
            task.uncancel()
            trace.fail(499, "client_disconnected", "client_disconnected")
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
        agent = trace.agent = authenticate(runtime, scope)
        body = parse_json_object(raw)
        facts = profile.read_facts(body)
        trace.requested_model, trace.stream = facts.model, facts.stream
        context = call_context(runtime, scope, agent, facts, body_size=len(raw))
        routes = runtime.routes
        plan = plan_route(
            routes, scope, agent, facts, context, raw, rng=runtime.rng, retries=runtime.retries
        )
        trace.pool = plan.pool.name if plan.pool else None
        trace.entry = plan.candidates[0]
        allowed = authorize(
            runtime,
            trace,
            agent,
            profile.operation,
            [entry.name for entry in plan.candidates],
            context,
            requested=plan.requested.name if plan.requested else None,
        )
        candidates = runtime.servable([e for e in plan.candidates if e.name in allowed])
        trace.entry = candidates[0][0]
        if profile.operation == "count_tokens" and not any(
            provider.accepts(profile.format, profile.operation) for _, provider in candidates
        ):
            await _estimated_count(send, trace, body)
            return
        trace.input_estimate = input_estimate(len(raw))
        trace.hold = await spending.reserve(
            runtime, trace, agent, [entry for entry, _ in candidates], facts, len(raw)
        )
        # Before the first upstream byte: a call the provider saw is never unaudited,
        # even if this process dies mid-call.
        await runtime.audit.room()
        runtime.audit.started(trace.started_row())
        settings = runtime.settings
        # A pool is invisible: the answer names what the agent asked for.
        rename = facts.model if plan.pool is not None else None
        forwarder = Forwarder(scope, raw, body, trace, settings.first_byte_timeout, rename=rename)
        await serve(
            candidates,
            forwarder,
            send,
            trace,
            runtime.health,
            attempt_timeout=settings.first_byte_timeout,
            deadline=time.monotonic() + settings.call_deadline,
            pin_note=plan.pin_note(),
        )


async def _estimated_count(send: Send, trace: CallTrace, body: dict[str, Any]) -> None:
    """count_tokens for a provider that cannot count: an estimate, marked as one.

    The body keeps the Anthropic shape (the SDK reads `input_tokens`) and adds
    `"estimated": true`; the header says the same to clients that ignore the body.
    """
    tokens = estimate_input_tokens(digest_messages_request(body, counting=True))
    trace.status = 200
    trace.usage = counted_usage({"input_tokens": tokens, "estimated": True}, tokens)
    answer = orjson.dumps({"input_tokens": tokens, "estimated": True})
    await send_bytes(send, 200, answer, _ESTIMATE_HEADERS)


async def _reject(send: Send, trace: CallTrace, error: DomeError) -> None:
    profile = trace.profile
    trace.fail(error.status_code, error.error_type, outcome_of(error))
    if trace.response_started:
        event = profile.stream_error_event(error.status_code, None, error.message)
        await send({"type": "http.response.body", "body": event, "more_body": False})
        return
    body = profile.error_body(
        error.status_code, wire_error_type(error), error.message, param=error.param
    )
    await send_bytes(send, error.status_code, body, (*JSON_HEADERS, *error_headers(error)))


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
