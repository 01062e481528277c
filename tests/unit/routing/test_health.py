"""Member health: Retry-After pauses and the circuit breaker, golden runs and a model."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from dome.errors import ConfigError
from dome.routing import AttemptOutcome, MemberHealth

from .clock import FakeClock


def health(clock: FakeClock, threshold: int = 3, cooldown: float = 30.0) -> MemberHealth:
    return MemberHealth(clock, failure_threshold=threshold, cooldown_seconds=cooldown)


def fail(h: MemberHealth, times: int, outcome: AttemptOutcome = "server_error") -> None:
    for _ in range(times):
        h.record("m", outcome, None)


def test_unknown_member_is_closed_and_available() -> None:
    h = health(FakeClock())
    assert h.state("m") == "closed"
    assert h.available("m")


def test_failures_open_the_circuit_for_the_cooldown() -> None:
    clock = FakeClock(1000.0)
    h = health(clock)
    fail(h, 2)
    assert h.available("m")
    fail(h, 1)
    assert not h.available("m")
    assert h.state("m") == "open until 1030.000 (30.0s from now)"
    clock.advance(29.9)
    assert not h.available("m")


def test_a_success_resets_the_count() -> None:
    h = health(FakeClock())
    fail(h, 2)
    h.record("m", "ok", None)
    fail(h, 2)
    assert h.state("m") == "closed"
    fail(h, 1)
    assert h.state("m").startswith("open until")


def test_client_errors_count_as_healthy() -> None:
    h = health(FakeClock())
    fail(h, 2)
    h.record("m", "client_error", None)
    fail(h, 2)
    assert h.available("m")


def test_half_open_admits_one_probe_and_its_success_closes() -> None:
    clock = FakeClock()
    h = health(clock)
    fail(h, 3)
    clock.advance(30)
    assert h.state("m") == "half-open"
    assert h.available("m")  # the probe
    assert h.state("m") == "half-open (probe in flight)"
    assert not h.available("m")
    assert not h.available("m")
    h.record("m", "ok", None)
    assert h.state("m") == "closed"
    assert h.available("m")
    assert h.available("m")


def test_a_failed_probe_reopens() -> None:
    clock = FakeClock()
    h = health(clock)
    fail(h, 3)
    clock.advance(31)
    assert h.available("m")
    h.record("m", "timeout", None)
    assert h.state("m") == f"open until {clock.now + 30:.3f} (30.0s from now)"
    assert not h.available("m")
    clock.advance(30)
    assert h.available("m")


def test_a_probe_that_never_reports_back_expires() -> None:
    clock = FakeClock()
    h = health(clock)
    fail(h, 3)
    clock.advance(30)
    assert h.available("m")
    clock.advance(29)
    assert not h.available("m")
    clock.advance(1)
    assert h.available("m")  # a new probe after one cooldown


def test_late_failures_while_open_change_nothing() -> None:
    clock = FakeClock(0.0)
    h = health(clock)
    fail(h, 3)
    clock.advance(10)
    fail(h, 5)  # answers from calls started before the circuit opened
    clock.advance(20)
    assert h.state("m") == "half-open"


def test_retry_after_pauses_without_counting() -> None:
    clock = FakeClock(0.0)
    h = health(clock)
    for _ in range(5):
        h.record("m", "rate_limited", 10.0)
    assert h.state("m") == "retry-after until 10.000 (10.0s from now)"
    assert not h.available("m")
    clock.advance(10)
    assert h.state("m") == "closed"
    assert h.available("m")


def test_retry_after_on_a_success_still_pauses() -> None:
    clock = FakeClock(0.0)
    h = health(clock)
    h.record("m", "ok", 5.0)
    assert not h.available("m")
    clock.advance(5)
    assert h.available("m")


def test_open_is_reported_before_retry_after() -> None:
    clock = FakeClock(0.0)
    h = health(clock)
    fail(h, 3)
    h.record("m", "rate_limited", 60.0)
    assert h.state("m").startswith("open until 30.000")
    clock.advance(30)
    assert h.state("m").startswith("retry-after until 60.000")
    assert not h.available("m")


def test_credential_rejection_counts_as_a_failure() -> None:
    h = health(FakeClock())
    fail(h, 3, "credential_rejected")
    assert not h.available("m")


def test_members_are_independent_and_forgettable() -> None:
    h = health(FakeClock())
    fail(h, 3)
    assert h.available("other")
    h.forget("m")
    assert h.available("m")


def test_bad_settings() -> None:
    with pytest.raises(ConfigError):
        MemberHealth(FakeClock(), failure_threshold=0)
    with pytest.raises(ConfigError):
        MemberHealth(FakeClock(), cooldown_seconds=0)


THRESHOLD = 3
COOLDOWN = 10.0


class BreakerMachine(RuleBasedStateMachine):
    """MemberHealth against a reference model of the breaker, for one member."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(0.0)
        self.health = MemberHealth(
            self.clock, failure_threshold=THRESHOLD, cooldown_seconds=COOLDOWN
        )
        self.failures = 0
        self.open_until: float | None = None
        self.probe_since: float | None = None
        self.retry_until: float | None = None

    @rule(seconds=st.sampled_from([0.5, 1.0, 5.0, 9.99, 10.0, 25.0]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule()
    def ask(self) -> None:
        now = self.clock.now
        expected = True
        if self.retry_until is not None and now < self.retry_until:
            expected = False
        elif self.open_until is not None:
            if now < self.open_until or (
                self.probe_since is not None and now - self.probe_since < COOLDOWN
            ):
                expected = False
            else:
                self.probe_since = now
        assert self.health.available("m") is expected

    @rule(
        outcome=st.sampled_from(["ok", "client_error", "server_error", "timeout", "overloaded"]),
        retry_after=st.sampled_from([None, None, 3.0]),
    )
    def report(self, outcome: AttemptOutcome, retry_after: float | None) -> None:
        now = self.clock.now
        self.health.record("m", outcome, retry_after)
        if retry_after is not None:
            self.retry_until = now + retry_after
        if outcome in {"ok", "client_error"}:
            self.failures, self.open_until, self.probe_since = 0, None, None
        elif self.open_until is not None:
            if now >= self.open_until:
                self.open_until, self.probe_since = now + COOLDOWN, None
        elif retry_after is None:
            self.failures += 1
            if self.failures >= THRESHOLD:
                self.open_until = now + COOLDOWN

    @invariant()
    def state_agrees(self) -> None:
        now = self.clock.now
        state = self.health.state("m")
        if self.open_until is not None and now < self.open_until:
            assert state.startswith("open until")
        elif self.retry_until is not None and now < self.retry_until:
            assert state.startswith("retry-after until")
        elif self.open_until is not None:
            assert state.startswith("half-open")
        else:
            assert state == "closed"


BreakerMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=40)
test_breaker_state_machine = BreakerMachine.TestCase
