"""How a broker error reads in the audit (`outcome`, docs/audit.md) and which headers
it adds to the agent's error answer."""

from __future__ import annotations

from dome.audit import AuditUnavailableError
from dome.errors import (
    BudgetExceededError,
    BudgetUnavailableError,
    DomeError,
    NoCandidateAvailableError,
    PolicyDeniedError,
    RequestError,
    UnpricedModelError,
    UpstreamError,
    UpstreamTimeoutError,
)

Header = tuple[bytes, bytes]

# Most specific first.
_OUTCOMES: tuple[tuple[type[DomeError], str], ...] = (
    (PolicyDeniedError, "denied_policy"),
    (BudgetExceededError, "denied_budget"),
    (UnpricedModelError, "denied_budget"),
    (BudgetUnavailableError, "budget_unavailable"),
    (AuditUnavailableError, "audit_unavailable"),
    (NoCandidateAvailableError, "no_candidate"),
    (UpstreamTimeoutError, "timeout"),
    (UpstreamError, "upstream_error"),
    (RequestError, "rejected"),
)


def outcome_of(error: DomeError) -> str:
    for kind, outcome in _OUTCOMES:
        if isinstance(error, kind):
            return outcome
    return "broker_error"


def error_headers(error: DomeError) -> tuple[Header, ...]:
    headers: list[Header] = []
    if isinstance(error, PolicyDeniedError) and error.policy_ids:
        # Machine-readable for clients that do not parse the body (docs/policy.md).
        headers.append((b"x-dome-policy", ",".join(error.policy_ids).encode()))
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int):
        headers.append((b"retry-after", str(retry_after).encode()))
    if isinstance(error, BudgetExceededError | UnpricedModelError):
        # The OpenAI and Anthropic SDKs honour this: retrying within seconds cannot
        # help a spent budget, so they raise at once instead of retrying a 429.
        headers.append((b"x-should-retry", b"false"))
    return tuple(headers)


def wire_error_type(error: DomeError) -> str | None:
    """The error `type` the agent sees; None: its format's type for the status. A spent
    budget says so (`budget_exceeded`) in both formats, where a plain 429 would read as
    a provider rate limit."""
    return error.error_type if isinstance(error, BudgetExceededError) else None
