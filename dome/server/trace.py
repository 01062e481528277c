"""What one agent call did, collected as it runs and turned into its audit record."""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dome.routing.failover import Attempt
from dome.server.authorization import DecisionRecord
from dome.store.records import AuditRow
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
    first_byte: float | None = None
    usage: ReportedUsage | None = None
    response_started: bool = False
    response_done: bool = False
    disconnected: bool = False
    format_out: str | None = None  # the provider's format, when it differs
    policy: DecisionRecord | None = None  # the Cedar decision, once made
    pool: str | None = None  # the pool that took the call
    attempts: list[Attempt] = field(default_factory=list)  # upstream attempts, in order

    def mark_first_byte(self) -> None:
        if self.first_byte is None:
            self.first_byte = time.perf_counter()

    def fail(self, status: int, error_type: str) -> None:
        self.status = status
        self.error_type = error_type

    def to_row(self) -> AuditRow:
        ended = time.perf_counter()
        agent, entry, usage, policy = self.agent, self.entry, self.usage, self.policy
        return AuditRow(
            call_id=self.call_id,
            started_at=self.started_at,
            agent=agent.name if agent else None,
            workspace=agent.workspace if agent else None,
            tenant=agent.tenant if agent else None,
            endpoint=self.profile.operation,
            requested_model=self.requested_model,
            served_model=entry.model if entry else None,
            model_entry=entry.name if entry else None,
            provider=entry.provider if entry else None,
            format_in=self.profile.format,
            format_out=(self.format_out or self.profile.format) if entry else None,
            stream=self.stream,
            status=self.status,
            error_type=self.error_type,
            latency_ms=round((ended - self.started) * 1000, 3),
            ttft_ms=(
                round((self.first_byte - self.started) * 1000, 3)
                if self.first_byte is not None
                else None
            ),
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
            usage=usage.raw if usage else None,
            decision=None if policy is None else ("allow" if policy.allowed else "deny"),
            policy_ids=None if policy is None else list(policy.policy_ids),
            policy_version=None if policy is None else policy.version,
            policy_context=None if policy is None else policy.request,
            pool=self.pool,
            attempts=[attempt.to_json() for attempt in self.attempts] or None,
        )
