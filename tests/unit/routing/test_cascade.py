"""Cascade steps: retry detection by SDK count, Idempotency-Key and fingerprint."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dome.errors import ConfigError
from dome.routing import CascadeStep, RetryTracker, fingerprint

from .clock import FakeClock

BODY = fingerprint(b'{"model":"cheap","messages":[]}')
OTHER = fingerprint(b'{"model":"cheap","messages":[{"role":"user","content":"hi"}]}')


def test_fingerprint_is_sha256_hex() -> None:
    assert fingerprint(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert len(BODY) == 64


def test_first_sight_is_step_zero() -> None:
    tracker = RetryTracker(FakeClock())
    assert tracker.step("a", retry_count=None, idempotency_key=None, fingerprint=BODY) == 0
    assert tracker.detect("a", retry_count=0, idempotency_key="k", fingerprint=OTHER) == (
        CascadeStep(0, "first")
    )


def test_the_sdk_retry_count_is_the_step() -> None:
    tracker = RetryTracker(FakeClock())
    assert tracker.detect("a", retry_count=2, idempotency_key=None, fingerprint=BODY) == (
        CascadeStep(2, "retry-count")
    )


def test_a_repeated_idempotency_key_steps_up() -> None:
    clock = FakeClock()
    tracker = RetryTracker(clock)
    steps = [
        tracker.detect("a", retry_count=None, idempotency_key="k1", fingerprint=body)
        for body in (BODY, OTHER, fingerprint(b"third"))
    ]
    assert steps == [
        CascadeStep(0, "first"),
        CascadeStep(1, "idempotency-key"),
        CascadeStep(2, "idempotency-key"),
    ]


def test_an_identical_body_steps_up_within_the_window() -> None:
    clock = FakeClock()
    tracker = RetryTracker(clock, window_seconds=60)
    assert tracker.step("a", retry_count=0, idempotency_key="k1", fingerprint=BODY) == 0
    clock.advance(59)
    # A new SDK call (new key, count 0) with the same body: the application retried.
    assert tracker.detect("a", retry_count=0, idempotency_key="k2", fingerprint=BODY) == (
        CascadeStep(1, "fingerprint")
    )
    clock.advance(59)  # the window slides: measured from the last sighting
    assert tracker.step("a", retry_count=None, idempotency_key=None, fingerprint=BODY) == 2
    clock.advance(60.5)
    assert tracker.step("a", retry_count=None, idempotency_key=None, fingerprint=BODY) == 0


def test_agents_are_apart() -> None:
    tracker = RetryTracker(FakeClock())
    assert tracker.step("a", retry_count=None, idempotency_key="k", fingerprint=BODY) == 0
    assert tracker.step("b", retry_count=None, idempotency_key="k", fingerprint=BODY) == 0
    assert tracker.step("a", retry_count=None, idempotency_key="k", fingerprint=BODY) == 1


def test_memory_is_bounded_oldest_first() -> None:
    clock = FakeClock()
    tracker = RetryTracker(clock, max_entries=3)
    for index in range(5):
        tracker.step("a", retry_count=None, idempotency_key=None, fingerprint=str(index))
        clock.advance(1)
    assert len(tracker) == 3
    # "0" and "1" were evicted; "4" is remembered.
    assert tracker.step("a", retry_count=None, idempotency_key=None, fingerprint="0") == 0
    assert tracker.step("a", retry_count=None, idempotency_key=None, fingerprint="4") == 1
    assert len(tracker) == 3


def test_expired_sightings_are_dropped() -> None:
    clock = FakeClock()
    tracker = RetryTracker(clock, window_seconds=10)
    for index in range(4):
        tracker.step("a", retry_count=None, idempotency_key=None, fingerprint=str(index))
    clock.advance(11)
    tracker.step("a", retry_count=None, idempotency_key=None, fingerprint="new")
    assert len(tracker) == 1


def test_bad_settings() -> None:
    with pytest.raises(ConfigError):
        RetryTracker(FakeClock(), window_seconds=0)
    with pytest.raises(ConfigError):
        RetryTracker(FakeClock(), max_entries=0)


calls = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.one_of(st.none(), st.integers(min_value=0, max_value=3)),
        st.one_of(st.none(), st.sampled_from(["k1", "k2"])),
        st.sampled_from(["f1", "f2"]),
        st.sampled_from([0.0, 1.0, 30.0, 120.0]),
    ),
    max_size=30,
)


@given(calls)
def test_steps_agree_with_a_reference_count(
    sequence: list[tuple[str, int | None, str | None, str, float]],
) -> None:
    clock = FakeClock()
    tracker = RetryTracker(clock, window_seconds=60, max_entries=100)
    seen: dict[tuple[str, str, str], tuple[int, float]] = {}  # key -> (count, last seen)

    def sight(key: tuple[str, str, str]) -> int:
        count, last_seen = seen.get(key, (0, clock.now))
        before = count if clock.now - last_seen <= 60 else 0
        seen[key] = (before + 1, clock.now)
        return before

    for agent, count, key, body, pause in sequence:
        clock.advance(pause)
        by_key = sight((agent, "key", key)) if key else 0
        by_body = sight((agent, "body", body))
        expected = count or by_key or by_body
        step = tracker.step(agent, retry_count=count, idempotency_key=key, fingerprint=body)
        assert step == expected
