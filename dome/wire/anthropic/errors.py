"""Anthropic error bodies: `{"type": "error", "error": {"type", "message"}}` (WIRE-FORMATS 3.5).

Renders the broker's errors, and reads a provider's error answers into canonical
`Failure`s and renders those back for Anthropic clients (WIRE-FORMATS 6.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import orjson

from dome.wire.canonical import Failure, FailureKind

_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def anthropic_error_type(status: int) -> str:
    return _TYPE_BY_STATUS.get(status, "api_error" if status >= 500 else "invalid_request_error")


def error_body(
    status: int,
    error_type: str | None,
    message: str,
    *,
    param: str | None = None,  # noqa: ARG001 - same signature as the OpenAI renderer
    code: str | None = None,  # noqa: ARG001
) -> bytes:
    """The JSON body; `error_type` None picks the type Anthropic uses for `status`."""
    return orjson.dumps(
        {
            "type": "error",
            "error": {"type": error_type or anthropic_error_type(status), "message": message},
        }
    )


def stream_error_event(status: int, error_type: str | None, message: str) -> bytes:
    """An error after the stream started, as the `error` SSE event the SDK raises on."""
    return b"event: error\ndata: " + error_body(status, error_type, message) + b"\n\n"


# Anthropic error types to canonical failure kinds (WIRE-FORMATS 3.5, 6.5). A
# billing_error means the broker's own account may not use the provider right now.
FAILURE_KINDS: Mapping[str, FailureKind] = MappingProxyType(
    {
        "invalid_request_error": "invalid_request",
        "authentication_error": "authentication",
        "permission_error": "permission",
        "billing_error": "permission",
        "not_found_error": "not_found",
        "request_too_large": "too_large",
        "rate_limit_error": "rate_limit",
        "overloaded_error": "overloaded",
        "api_error": "server",
        "timeout_error": "timeout",
    }
)

# When the body names no known type: the status Anthropic (or a proxy before it) used.
_KIND_BY_STATUS: Mapping[int, FailureKind] = MappingProxyType(
    {
        400: "invalid_request",
        401: "authentication",
        402: "permission",
        403: "permission",
        404: "not_found",
        408: "timeout",
        413: "too_large",
        429: "rate_limit",
        503: "overloaded",
        504: "timeout",
        529: "overloaded",
    }
)

# Anthropic gives a too-long prompt no error type of its own, only invalid_request_error
# with these messages; this is the one place a message decides a kind (WIRE-FORMATS 6.5).
_CONTEXT_LENGTH_MESSAGES = ("prompt is too long", "input length and `max_tokens` exceed")

# What an Anthropic client gets for each kind (WIRE-FORMATS 6.5). A provider refusing
# the broker's own credentials is the broker's problem, never a 401/403 that would blame
# the client's key: 502 api_error, as the broker answers for any bad upstream.
RENDERED_FAILURES: Mapping[FailureKind, tuple[int, str]] = MappingProxyType(
    {
        "invalid_request": (400, "invalid_request_error"),
        "context_length": (400, "invalid_request_error"),
        "authentication": (502, "api_error"),
        "permission": (502, "api_error"),
        # The broker checked the agent's model name; a provider that does not know the
        # model it was configured with is the operator's mapping, not the agent's.
        "not_found": (502, "api_error"),
        "too_large": (413, "request_too_large"),
        "rate_limit": (429, "rate_limit_error"),
        "overloaded": (529, "overloaded_error"),
        "timeout": (504, "timeout_error"),
        "server": (500, "api_error"),
    }
)


def read_failure(status: int, body: bytes) -> Failure:
    """An Anthropic error answer (`{"type": "error", "error": {"type", "message"}}`).

    The kind comes from `error.type`, else from the status. The message is the
    provider's when the body is that JSON; a body that is not is never echoed.
    """
    error_type, message = _error_fields(body)
    kind = FAILURE_KINDS.get(error_type or "") or _KIND_BY_STATUS.get(status)
    if kind is None:
        kind = "server" if status >= 500 else "invalid_request"
    is_too_long = message is not None and message.lower().startswith(_CONTEXT_LENGTH_MESSAGES)
    if kind == "invalid_request" and is_too_long:
        kind = "context_length"
    return Failure(kind=kind, message=message or f"the provider answered HTTP {status}")


def render_failure(failure: Failure) -> tuple[int, bytes]:
    """The status and body an Anthropic client gets for `failure`."""
    status, error_type = RENDERED_FAILURES[failure.kind]
    message = failure.message
    if failure.kind in ("authentication", "permission"):
        message = f"the provider refused the broker's credentials: {message}"
    return status, error_body(status, error_type, message)


def _error_fields(body: bytes) -> tuple[str | None, str | None]:
    """(error.type, error.message) of an Anthropic error body; None where absent."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        return None, None
    error_type, message = error.get("type"), error.get("message")
    return (
        error_type if isinstance(error_type, str) else None,
        message if isinstance(message, str) and message else None,
    )
