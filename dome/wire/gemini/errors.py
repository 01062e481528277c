"""Google error bodies (`{"error": {"code", "message", "status"}}`) to canonical failures.

Classified by the canonical `status` (google.rpc.Code names, WIRE-FORMATS 5.5), else by
the HTTP status; never by message text, except for the one too-long-prompt message
(below). Rendering errors for Gemini clients is not done here: no agent speaks Gemini.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import orjson

from dome.wire.canonical import Failure, FailureKind

# WIRE-FORMATS 5.5. UNAUTHENTICATED and PERMISSION_DENIED refuse the broker's own
# Google credential: `authentication` / `permission` kinds, which every format renders
# as the broker's problem (502), never as the agent's.
FAILURE_KINDS: Mapping[str, FailureKind] = MappingProxyType(
    {
        "INVALID_ARGUMENT": "invalid_request",
        "FAILED_PRECONDITION": "invalid_request",
        "OUT_OF_RANGE": "invalid_request",
        "UNAUTHENTICATED": "authentication",
        "PERMISSION_DENIED": "permission",
        "NOT_FOUND": "not_found",
        "RESOURCE_EXHAUSTED": "rate_limit",
        "UNAVAILABLE": "overloaded",
        "DEADLINE_EXCEEDED": "timeout",
        "INTERNAL": "server",
        "UNKNOWN": "server",
        "CANCELLED": "server",
        "ABORTED": "server",
    }
)

# When the body names no known status: what the HTTP status means at Google.
_KIND_BY_STATUS: Mapping[int, FailureKind] = MappingProxyType(
    {
        400: "invalid_request",
        401: "authentication",
        403: "permission",
        404: "not_found",
        408: "timeout",
        413: "too_large",
        429: "rate_limit",
        503: "overloaded",
        504: "timeout",
    }
)

# Vertex gives a too-long prompt no status of its own, only INVALID_ARGUMENT with this
# message ("The input token count (N) exceeds the maximum number of tokens allowed (M).").
_CONTEXT_LENGTH_MESSAGE = "the input token count"


def read_failure(status: int, body: bytes) -> Failure:
    """A Google error answer as a canonical `Failure`.

    The message is Google's when the body is that JSON; a body that is not (an HTML
    page from a proxy) is never echoed. Vertex also answers `:streamGenerateContent`
    without `alt=sse` with a one-element array around the error; that is read too.
    """
    google_status, message = _error_fields(body)
    kind = FAILURE_KINDS.get(google_status or "") or _KIND_BY_STATUS.get(status)
    if kind is None:
        kind = "server" if status >= 500 else "invalid_request"
    if (
        kind == "invalid_request"
        and message is not None
        and message.lower().startswith(_CONTEXT_LENGTH_MESSAGE)
    ):
        kind = "context_length"
    return Failure(kind=kind, message=message or f"the provider answered HTTP {status}")


def _error_fields(body: bytes) -> tuple[str | None, str | None]:
    """(error.status, error.message) of a Google error body; None where absent."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if isinstance(parsed, list) and len(parsed) == 1:
        parsed = parsed[0]
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        return None, None
    google_status, message = error.get("status"), error.get("message")
    return (
        google_status if isinstance(google_status, str) else None,
        message if isinstance(message, str) and message else None,
    )
