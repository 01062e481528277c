"""What one agent call did, collected as it runs and turned into its audit records: a
start record (before the first upstream byte), one per upstream attempt, and the end.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypedDict

from dome.routing.failover import Attempt
from dome.server.authorization import DecisionRecord
from dome.spend.budgets import Hold
from dome.spend.figures import CallFigures, UsageFigures
from dome.store.records import AuditKind, AuditRow
from dome.store.snapshot import Agent, ModelEntry
from dome.wire.profiles import EndpointProfile
from dome.wire.usage import ReportedUsage


class CallIds:
    """Unique call ids, cheaply: a random per-process prefix and a counter.

    uuid4 costs a system call per call; this is a string format. The 64 random bits
    keep ids from different processes (replicas, restarts) apart.
    """

    __slots__ = ("_counter", "_prefix")

    def __init__(self) -> None:
        self._prefix = "call_" + secrets.token_hex(8)
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):012x}"


@dataclass(slots=True)
class AttemptTrace:
    """One upstream attempt: which member, what happened, and what it reported using
    (a failed attempt may have: a stream that began, then failed)."""

    entry: ModelEntry
    started_at: datetime
    attempt: Attempt | None = None  # filled when the attempt is decided
    usage: ReportedUsage | None = None


@dataclass(slots=True)
class CallTrace:
    profile: EndpointProfile
    call_id: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.perf_counter)
    agent: Agent | None = None
    requested_model: str | None = None
    entry: ModelEntry | None = None
    stream: bool = False
    status: int = 0
    error_type: str | None = None
    outcome: str | None = None  # set on failure; "ok" otherwise (docs/audit.md)
    first_byte: float | None = None
    usage: ReportedUsage | None = None  # what the delivered attempt reported
    response_started: bool = False
    response_done: bool = False
    disconnected: bool = False
    format_out: str | None = None  # the provider's format, when it differs
    policy: DecisionRecord | None = None  # the Cedar decision, once made
    pool: str | None = None  # the pool that took the call
    attempts: list[AttemptTrace] = field(default_factory=list)  # in order
    budget: str | None = None  # admitted | denied | unavailable; None without ceilings
    budget_ceiling: str | None = None  # the ceiling that denied the call
    input_estimate: int = 0  # the request's input tokens, estimated from its size
    delivered_events: int = 0  # stream events relayed to the agent
    figures: CallFigures | None = None  # usage and cost, once the call is over
    hold: Hold | None = None  # the budget reservation, settled when the call is over

    def mark_first_byte(self) -> None:
        if self.first_byte is None:
            self.first_byte = time.perf_counter()

    def fail(self, status: int, error_type: str, outcome: str | None = None) -> None:
        self.status = status
        self.error_type = error_type
        if outcome is not None:
            self.outcome = outcome

    def final_outcome(self) -> str:
        if self.outcome is not None:
            return self.outcome
        if self.status and self.status < 400:
            return "ok"
        return "upstream_error" if self.attempts else "rejected"

    def started_row(self) -> AuditRow:
        """The record made durable before the provider sees the call."""
        return self._row(kind="call_started", status=0, latency_ms=0.0, ttft_ms=None)

    def attempt_rows(self) -> list[AuditRow]:
        figures = self.figures
        rows = []
        for index, attempt in enumerate(self.attempts, start=1):
            tried = attempt.attempt
            used = figures.attempts[index - 1] if figures else None
            rows.append(
                AuditRow(
                    call_id=self.call_id,
                    kind="attempt",
                    attempt=index,
                    started_at=attempt.started_at,
                    agent=self.agent.name if self.agent else None,
                    workspace=self.agent.workspace if self.agent else None,
                    tenant=self.agent.tenant if self.agent else None,
                    endpoint=self.profile.operation,
                    requested_model=self.requested_model,
                    served_model=attempt.entry.model,
                    model_entry=attempt.entry.name,
                    provider=attempt.entry.provider,
                    pool=self.pool,
                    region=attempt.entry.region or None,
                    format_in=self.profile.format,
                    format_out=self.format_out or self.profile.format,
                    stream=self.stream,
                    outcome=tried.outcome if tried else "cancelled",
                    status=(tried.status or 0) if tried else 0,
                    error_type=None,
                    detail=tried.why if tried else None,
                    latency_ms=tried.latency_ms if tried else 0.0,
                    ttft_ms=None,
                    **usage_columns(used),
                )
            )
        return rows

    def end_row(self) -> AuditRow:
        ended = time.perf_counter()
        return self._row(
            kind="call",
            status=self.status,
            latency_ms=round((ended - self.started) * 1000, 3),
            ttft_ms=(
                round((self.first_byte - self.started) * 1000, 3)
                if self.first_byte is not None
                else None
            ),
        )

    def _row(
        self, *, kind: AuditKind, status: int, latency_ms: float, ttft_ms: float | None
    ) -> AuditRow:
        agent, entry, policy = self.agent, self.entry, self.policy
        ended = kind == "call"
        totals = self.figures.total if ended and self.figures else None
        attempts = [a.attempt.to_json() for a in self.attempts if a.attempt] if ended else []
        return AuditRow(
            call_id=self.call_id,
            kind=kind,
            started_at=self.started_at,
            agent=agent.name if agent else None,
            workspace=agent.workspace if agent else None,
            tenant=agent.tenant if agent else None,
            endpoint=self.profile.operation,
            requested_model=self.requested_model,
            served_model=entry.model if entry else None,
            model_entry=entry.name if entry else None,
            provider=entry.provider if entry else None,
            pool=self.pool,
            region=(entry.region or None) if entry else None,
            format_in=self.profile.format,
            format_out=(self.format_out or self.profile.format) if entry else None,
            stream=self.stream,
            outcome=self.final_outcome() if ended else None,
            status=status,
            error_type=self.error_type if ended else None,
            latency_ms=latency_ms,
            ttft_ms=ttft_ms,
            decision=None if policy is None else ("allow" if policy.allowed else "deny"),
            policy_ids=None if policy is None else list(policy.policy_ids),
            policy_version=None if policy is None else policy.version,
            policy_context=None if policy is None else policy.request,
            budget=self.budget,
            budget_ceiling=self.budget_ceiling,
            attempts=attempts or None,
            **usage_columns(totals),
        )


class UsageColumns(TypedDict):
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    reasoning_tokens: int | None
    total_tokens: int | None
    request_units: int | None
    usage_estimated: bool
    usage: dict[str, Any] | None
    cost_usd: str | None
    cost_nano_usd: int | None


_NO_USAGE = UsageColumns(
    input_tokens=None,
    output_tokens=None,
    cache_read_tokens=None,
    cache_write_tokens=None,
    reasoning_tokens=None,
    total_tokens=None,
    request_units=None,
    usage_estimated=False,
    usage=None,
    cost_usd=None,
    cost_nano_usd=None,
)


def usage_columns(figures: UsageFigures | None) -> UsageColumns:
    """A record's usage and cost columns (built into the record at once: the record has
    some fifty fields, and a copy with `replace` costs as much again)."""
    if figures is None:
        return _NO_USAGE
    return UsageColumns(
        input_tokens=figures.input_tokens,
        output_tokens=figures.output_tokens,
        cache_read_tokens=figures.cache_read_tokens,
        cache_write_tokens=figures.cache_write_tokens,
        reasoning_tokens=figures.reasoning_tokens,
        total_tokens=figures.total_tokens,
        request_units=figures.request_units,
        usage_estimated=figures.estimated,
        usage=figures.raw,
        cost_usd=None if figures.cost_usd is None else decimal_text(figures.cost_usd),
        cost_nano_usd=figures.cost_nano_usd,
    )


def decimal_text(value: Decimal) -> str:
    """Plain, without trailing zeros: 0.000096, not 0.00009600 or 9.6E-5."""
    return format(value.normalize(), "f") if value else "0"
