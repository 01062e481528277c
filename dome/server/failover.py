"""Failover within one call: candidates in order, the first good answer is delivered.

An attempt that fails the way a different member could fix (rate limit, overload,
5xx, connect error, timeout, a stream dying before its first event) moves on to the
next candidate, invisibly: nothing reached the agent yet. A request error (4xx) is the
agent's answer. The last candidate's failure is delivered as is. Every attempt is
recorded for the audit, and feeds the per-member health (Retry-After, circuit breaker).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from dome.errors import NoCandidateAvailableError, UpstreamStreamError, UpstreamTimeoutError
from dome.providers.base import Provider
from dome.routing.failover import (
    Attempt,
    AttemptOutcome,
    classify_status,
    describe_outcome,
    fails_over,
    retry_after_seconds,
)
from dome.routing.health import MemberHealth
from dome.server.asgi import Send
from dome.server.attempt import Attempted, raised
from dome.server.forward import Forwarder
from dome.server.trace import AttemptTrace, CallTrace
from dome.store.snapshot import ModelEntry


async def serve(
    candidates: Sequence[tuple[ModelEntry, Provider]],
    forwarder: Forwarder,
    send: Send,
    trace: CallTrace,
    health: MemberHealth,
    *,
    attempt_timeout: float,
    deadline: float,
    pin_note: str | None = None,
) -> None:
    """Attempt `candidates` in order until one answers; deliver exactly one answer.

    `deadline` is a `time.monotonic()` instant: no attempt runs past it. `pin_note`
    says what a region pin kept out: when every member left failed, the agent is told
    that, not just the last provider's error.
    """
    skipped: list[str] = []
    # Health only chooses between members: a lone candidate is always asked, so the
    # agent gets the provider's own answer (and its Retry-After), not the broker's guess.
    gated = len(candidates) > 1
    for position, (entry, provider) in enumerate(candidates):
        # Asked just before the attempt: a half-open circuit admits one probe, once.
        if gated and not health.available(entry.name):
            skipped.append(f"{entry.name}: {health.state(entry.name)}")
            continue
        started = time.perf_counter()
        record = AttemptTrace(entry, datetime.now(UTC))
        trace.attempts.append(record)
        seconds = min(attempt_timeout, max(0.001, deadline - time.monotonic()))
        try:
            attempted = await _attempt(forwarder, entry, provider, seconds)
        except asyncio.CancelledError:
            # The agent hung up (or shutdown): the request reached the provider all the
            # same, so the audit keeps the attempt.
            latency = round((time.perf_counter() - started) * 1000, 3)
            why = describe_outcome("cancelled", None)
            record.attempt = Attempt(entry.name, "cancelled", None, latency, why)
            trace.entry = entry
            raise
        outcome = _outcome(attempted)
        # Only a failure's Retry-After rests a member; a success needs no parsing.
        retry_after = (
            None if attempted.ok else retry_after_seconds(attempted.headers, datetime.now(UTC))
        )
        health.record(entry.name, outcome, retry_after)
        later = candidates[position + 1 :]
        moving_on = (
            not attempted.ok
            and fails_over(outcome)
            and time.monotonic() < deadline
            and any(_may_serve(health, e.name) for e, _ in later)
        )
        why = attempted.why + ("; trying the next candidate" if moving_on else "")
        latency = round((time.perf_counter() - started) * 1000, 3)
        record.attempt = Attempt(entry.name, outcome, attempted.status, latency, why)
        record.usage = attempted.usage
        if moving_on:
            if attempted.discard is not None:
                await attempted.discard()
            continue
        trace.entry = entry
        if not attempted.ok and fails_over(outcome) and pin_note is not None:
            if attempted.discard is not None:
                await attempted.discard()
            msg = f"{pin_note}; every model in the region failed (last: {attempted.why})"
            raise NoCandidateAvailableError(msg)
        await attempted.deliver(send, trace)
        return
    states = "; ".join(skipped)
    raise NoCandidateAvailableError(f"no candidate model is available now ({states})")


def _may_serve(health: MemberHealth, model: str) -> bool:
    """Whether `model` would be tried now; reads the state without taking a probe."""
    state = health.state(model)
    return state.startswith(("closed", "half-open")) and not state.endswith("(probe in flight)")


async def _attempt(
    forwarder: Forwarder, entry: ModelEntry, provider: Provider, seconds: float
) -> Attempted:
    try:
        async with asyncio.timeout(seconds):
            return await forwarder.attempt(entry, provider)
    except TimeoutError:
        message = f"the provider did not answer within {seconds:g} s"
        return raised(UpstreamTimeoutError(message))


def _outcome(attempted: Attempted) -> AttemptOutcome:
    if attempted.ok:
        return "ok"
    failure = attempted.failure
    if isinstance(failure, UpstreamTimeoutError):
        return "timeout"
    if isinstance(failure, UpstreamStreamError):
        return "stream_broken"
    if failure is not None:
        return "connect_error"
    if attempted.status == 200:
        return "stream_broken"  # a 200 stream that began with an error event
    return classify_status(attempted.status or 502)
