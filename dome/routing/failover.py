"""Failover rules: how an attempt's result is classified, whether the call moves on, how
long a member asked to be left alone, and the audit record of each attempt.

Pure: classification uses HTTP statuses and vendors' structured error types, never the
text of error messages; time comes in as `now`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Final, Literal, get_args

MAX_RETRY_AFTER_SECONDS: Final = 300.0
"""A member asking for a longer pause is skipped this long, then health decides again."""

_NUMBER: Final = re.compile(r"\d+(?:\.\d+)?")


AttemptOutcome = Literal[
    "ok",
    "rate_limited",  # 429, throttling
    "overloaded",  # 529 (Anthropic), 503 (OpenAI "overloaded")
    "server_error",  # other 5xx, and statuses an API never sends
    "connect_error",  # refused, reset, DNS, TLS: nothing was sent back
    "timeout",  # our deadline, or 408 from the upstream
    "stream_broken",  # the stream died before its first byte reached the agent
    "client_error",  # 4xx: the request itself is wrong; never retried
    "credential_rejected",  # 401/403 from the provider: the broker's key, not the agent's
    "cancelled",  # the agent hung up (or the broker shut down) while it ran
]
"""What one attempt against one member came to (a closed set of strings, as audited)."""

ATTEMPT_OUTCOMES: Final[tuple[AttemptOutcome, ...]] = get_args(AttemptOutcome)

# A cancelled attempt ends the call, and says nothing about the member's health.
_DOES_NOT_FAIL_OVER: Final[frozenset[AttemptOutcome]] = frozenset(
    {"ok", "client_error", "cancelled"}
)


def classify_status(status: int) -> AttemptOutcome:
    """The outcome an upstream HTTP status means.

    401 and 403 come from the provider about the broker's credential (the agent's own
    token was checked before routing), so another member with another key may work.
    """
    if 200 <= status < 300:
        return "ok"
    if status == 429:
        return "rate_limited"
    if status in {503, 529}:
        # 529 is Anthropic's overloaded_error; OpenAI documents 503 as "overloaded".
        return "overloaded"
    if status == 408:
        return "timeout"
    if status in {401, 403}:
        return "credential_rejected"
    if 400 <= status < 500:
        return "client_error"
    # 5xx, and 1xx/3xx which a JSON API never answers a POST with: the member misbehaves.
    return "server_error"


_ERROR_TYPES: Final[Mapping[str, AttemptOutcome]] = MappingProxyType(
    {
        # Anthropic error `type`s (docs.anthropic.com/en/api/errors), e.g. in an SSE
        # `error` event that arrives with a 200 status.
        "overloaded_error": "overloaded",
        "rate_limit_error": "rate_limited",
        "api_error": "server_error",
        "timeout_error": "timeout",
        "authentication_error": "credential_rejected",
        "permission_error": "credential_rejected",
        "invalid_request_error": "client_error",
        "request_too_large": "client_error",
        "not_found_error": "client_error",
        # AWS Bedrock runtime exception names (x-amzn-ErrorType).
        "ThrottlingException": "rate_limited",
        "ServiceUnavailableException": "overloaded",
        "ModelNotReadyException": "overloaded",
        "InternalServerException": "server_error",
        "ModelTimeoutException": "timeout",
        "ValidationException": "client_error",
        "AccessDeniedException": "credential_rejected",
    }
)


def classify_error_type(error_type: str) -> AttemptOutcome | None:
    """The outcome a vendor's structured error type means, or None when unknown.

    Use it when the status alone does not tell (an error event inside a 200 stream);
    for an unknown type, fall back to `classify_status`.
    """
    return _ERROR_TYPES.get(error_type.split(":", 1)[0])


def fails_over(outcome: AttemptOutcome) -> bool:
    """Whether the call moves on to the next member after `outcome`."""
    return outcome not in _DOES_NOT_FAIL_OVER


def is_member_failure(outcome: AttemptOutcome) -> bool:
    """Whether `outcome` counts against the member's health (its circuit breaker).

    A client error is the request's fault: the member answered, so it counts as healthy.
    """
    return outcome not in _DOES_NOT_FAIL_OVER


def _header_values(pairs: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in pairs if key.lower() == name]


def _seconds(text: str, scale: float) -> float | None:
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text) * scale
    return value if math.isfinite(value) else None


def _http_date(text: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 5322 for "UTC, source unknown"
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def retry_after_seconds(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], now: datetime
) -> float | None:
    """How long the member asked us to wait, in seconds, or None if it did not say.

    `retry-after-ms` (sent by OpenAI beside `retry-after`) wins for its precision; else
    `retry-after` as delay-seconds or an HTTP-date (RFC 9110 section 10.2.3), measured
    from `now` (timezone-aware). Fractional seconds are accepted, as OpenAI's SDK does.
    A date in the past is 0; anything above `MAX_RETRY_AFTER_SECONDS` is clamped to it;
    unparsable values are ignored. Header names are case-insensitive.
    """
    # One pass into a list: an iterator of pairs can be read only once.
    pairs = list(headers.items() if isinstance(headers, Mapping) else headers)
    for value in _header_values(pairs, "retry-after-ms"):
        seconds = _seconds(value, 0.001)
        if seconds is not None:
            return min(seconds, MAX_RETRY_AFTER_SECONDS)
    for value in _header_values(pairs, "retry-after"):
        seconds = _seconds(value, 1.0)
        if seconds is None:
            seconds = _http_date(value, now)
        if seconds is not None:
            return min(seconds, MAX_RETRY_AFTER_SECONDS)
    return None


_MOVES_ON: Final[Mapping[AttemptOutcome, str]] = MappingProxyType(
    {
        "ok": "answered",
        "rate_limited": "rate limited; trying the next member",
        "overloaded": "overloaded; trying the next member",
        "server_error": "server error; trying the next member",
        "connect_error": "could not connect; trying the next member",
        "timeout": "timed out; trying the next member",
        "stream_broken": "stream broke before the first byte; trying the next member",
        "client_error": "rejected the request (client error); not retried",
        "cancelled": "abandoned: the call was cancelled while this member worked on it",
        "credential_rejected": (
            "rejected the broker's credential for this member; check its key; "
            "trying the next member"
        ),
    }
)


def describe_outcome(outcome: AttemptOutcome, status: int | None) -> str:
    """The audit's `why` for an attempt, e.g. "429 rate limited; trying the next member"."""
    phrase = _MOVES_ON[outcome]
    return f"{status} {phrase}" if status is not None else phrase


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of one member within a call, as the audit records it."""

    model: str
    outcome: AttemptOutcome
    status: int | None  # None: no HTTP answer (connect error, our timeout)
    latency_ms: float
    why: str

    def to_json(self) -> dict[str, object]:
        """The attempt as one JSON object of the audit record."""
        return {
            "model": self.model,
            "outcome": self.outcome,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 3),
            "why": self.why,
        }
