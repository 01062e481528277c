"""Failover rules: status classification, moving on, Retry-After, the attempt record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dome.routing import (
    ATTEMPT_OUTCOMES,
    MAX_RETRY_AFTER_SECONDS,
    Attempt,
    AttemptOutcome,
    classify_error_type,
    classify_status,
    describe_outcome,
    fails_over,
    is_member_failure,
    retry_after_seconds,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "ok"),
        (201, "ok"),
        (429, "rate_limited"),
        (529, "overloaded"),
        (503, "overloaded"),
        (500, "server_error"),
        (502, "server_error"),
        (504, "server_error"),
        (408, "timeout"),
        (401, "credential_rejected"),
        (403, "credential_rejected"),
        (400, "client_error"),
        (404, "client_error"),
        (413, "client_error"),
        (422, "client_error"),
        (302, "server_error"),
    ],
)
def test_classify_status(status: int, outcome: AttemptOutcome) -> None:
    assert classify_status(status) == outcome


@pytest.mark.parametrize(
    ("outcome", "moves_on"),
    [
        ("ok", False),
        ("client_error", False),
        ("rate_limited", True),
        ("overloaded", True),
        ("server_error", True),
        ("connect_error", True),
        ("timeout", True),
        ("stream_broken", True),
        ("credential_rejected", True),
    ],
)
def test_fails_over(outcome: AttemptOutcome, moves_on: bool) -> None:
    assert fails_over(outcome) is moves_on
    assert is_member_failure(outcome) is moves_on


def test_every_outcome_is_covered() -> None:
    assert len(ATTEMPT_OUTCOMES) == 10
    for outcome in ATTEMPT_OUTCOMES:
        assert describe_outcome(outcome, None)


@pytest.mark.parametrize(
    ("error_type", "outcome"),
    [
        ("overloaded_error", "overloaded"),
        ("rate_limit_error", "rate_limited"),
        ("invalid_request_error", "client_error"),
        ("authentication_error", "credential_rejected"),
        ("ThrottlingException", "rate_limited"),
        (
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "rate_limited",
        ),
        ("ValidationException", "client_error"),
        ("something_new", None),
    ],
)
def test_classify_error_type(error_type: str, outcome: AttemptOutcome | None) -> None:
    assert classify_error_type(error_type) == outcome


def test_describe_outcome() -> None:
    assert describe_outcome("rate_limited", 429) == "429 rate limited; trying the next member"
    assert describe_outcome("connect_error", None) == "could not connect; trying the next member"
    assert "broker's credential" in describe_outcome("credential_rejected", 401)
    assert describe_outcome("client_error", 400).endswith("not retried")


def test_attempt_to_json() -> None:
    attempt = Attempt("anthropic-prod", "rate_limited", 429, 12.34567, "429 rate limited")
    assert attempt.to_json() == {
        "model": "anthropic-prod",
        "outcome": "rate_limited",
        "status": 429,
        "latency_ms": 12.346,
        "why": "429 rate limited",
    }


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"Retry-After": " 7 "}, 7.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "1"}, 0.25),  # ms wins
        ({"retry-after-ms": "junk", "retry-after": "2"}, 2.0),
        ({"retry-after": "Sun, 01 Mar 2026 12:00:30 GMT"}, 30.0),
        ({"retry-after": "Sun, 01 Mar 2026 11:59:00 GMT"}, 0.0),  # in the past
        ({"retry-after": "Sun, 01 Mar 2026 12:00:10 -0000"}, 10.0),
        ({"retry-after": "86400"}, MAX_RETRY_AFTER_SECONDS),
        ({"retry-after-ms": "99999999"}, MAX_RETRY_AFTER_SECONDS),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-5"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "1e3"}, None),
        ({"retry-after": ""}, None),
        ({}, None),
        ({"x-ratelimit-reset": "5"}, None),
    ],
)
def test_retry_after_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers, NOW) == expected


def test_retry_after_from_header_pairs() -> None:
    pairs = [("content-type", "application/json"), ("Retry-After", "garbage"), ("retry-after", "3")]
    assert retry_after_seconds(pairs, NOW) == 3.0
    assert retry_after_seconds(iter([("retry-after", "4")]), NOW) == 4.0


@given(st.integers(min_value=0, max_value=10**9))
def test_retry_after_delay_seconds_is_clamped(seconds: int) -> None:
    result = retry_after_seconds({"retry-after": str(seconds)}, NOW)
    assert result == min(float(seconds), MAX_RETRY_AFTER_SECONDS)


@given(st.integers(min_value=-3600, max_value=3600))
def test_retry_after_http_date(offset: int) -> None:
    when = format_datetime(NOW + timedelta(seconds=offset), usegmt=True)
    assert retry_after_seconds({"retry-after": when}, NOW) == min(
        max(float(offset), 0.0), MAX_RETRY_AFTER_SECONDS
    )


@given(st.text(max_size=30))
def test_retry_after_garbage_is_none_or_sane(text: str) -> None:
    result = retry_after_seconds([("retry-after", text), ("retry-after-ms", text)], NOW)
    assert result is None or 0.0 <= result <= MAX_RETRY_AFTER_SECONDS
