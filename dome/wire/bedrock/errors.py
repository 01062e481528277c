"""Bedrock Runtime errors into canonical `Failure`s (WIRE-FORMATS 4.6, 6.5).

Pure. A non-stream error names its exception in the `x-amzn-ErrorType` header
(`ThrottlingException:http://internal.amazon.com/...`: the part before `:` counts) and
carries `{"message": "..."}` (sometimes `Message`); stream exceptions arrive as
event-stream messages with `:exception-type` in camelCase (`throttlingException`).
Either way the exception name decides the kind, the status only when it names none.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import orjson

from dome.wire.canonical import Failure, FailureKind

ERROR_TYPE_HEADER = "x-amzn-errortype"
"""Response header naming the exception (HTTP header names are case-insensitive)."""

# Exception names (lower-cased, so stream and HTTP spellings meet) to kinds, per the
# table of WIRE-FORMATS 4.6. ModelNotReady (an imported model still loading) and
# ServiceUnavailable are "overloaded": retryable, another pool member may serve.
# ServiceQuotaExceeded is the broker's account quota: a rate limit to the agent.
# AccessDenied and the signature/credential errors are the broker's own credential
# problem, rendered 502 by every format (never blaming the agent's key).
FAILURE_KINDS: Mapping[str, FailureKind] = MappingProxyType(
    {
        "validationexception": "invalid_request",
        "servicequotaexceededexception": "rate_limit",
        "accessdeniedexception": "permission",
        "unrecognizedclientexception": "authentication",
        "invalidsignatureexception": "authentication",
        "missingauthenticationtokenexception": "authentication",
        "expiredtokenexception": "authentication",
        "resourcenotfoundexception": "not_found",
        "modeltimeoutexception": "timeout",
        "throttlingexception": "rate_limit",
        "modelnotreadyexception": "overloaded",
        "serviceunavailableexception": "overloaded",
        "modelerrorexception": "server",
        "modelstreamerrorexception": "server",
        "internalserverexception": "server",
    }
)

# When no exception name is known: what the status means on Bedrock (or a proxy before it).
_KIND_BY_STATUS: Mapping[int, FailureKind] = MappingProxyType(
    {
        400: "invalid_request",
        401: "authentication",
        403: "permission",
        404: "not_found",
        408: "timeout",
        413: "too_large",
        424: "server",  # ModelErrorException: the model failed, not the request
        429: "rate_limit",
        503: "overloaded",
        504: "timeout",
    }
)

# Bedrock gives a too-long prompt no exception of its own, only a ValidationException
# with one of these messages; the one place a message decides a kind (WIRE-FORMATS 6.5).
_CONTEXT_LENGTH_MARKERS = ("input is too long", "prompt is too long", "too many input tokens")


def exception_name(error_type_header: str | None) -> str | None:
    """The exception of an `x-amzn-ErrorType` value: the part before the first `:`."""
    if not error_type_header:
        return None
    name = error_type_header.split(":", 1)[0].strip()
    return name or None


def read_failure(status: int, body: bytes, error_type_header: str | None = None) -> Failure:
    """A Bedrock error answer: kind from the exception name (header, else body), then status.

    The message is the provider's when the body is JSON with one; a body that is not
    is never echoed.
    """
    body_type, message = _error_fields(body)
    name = exception_name(error_type_header) or body_type
    kind = FAILURE_KINDS.get((name or "").lower()) or _KIND_BY_STATUS.get(status)
    if kind is None:
        kind = "server" if status >= 500 else "invalid_request"
    text = message or f"the provider answered HTTP {status}" + (f" ({name})" if name else "")
    return Failure(kind=_refined(kind, text), message=text)


def stream_failure(exception_type: str, payload: bytes) -> Failure:
    """An `exception` message inside a stream (`:exception-type`, `{"message"}` payload)."""
    _, message = _error_fields(payload)
    kind = FAILURE_KINDS.get(exception_type.lower(), "server")
    text = message or f"the provider's stream failed with {exception_type}"
    return Failure(kind=_refined(kind, text), message=text)


def _refined(kind: FailureKind, message: str) -> FailureKind:
    lowered = message.lower()
    if kind == "invalid_request" and any(m in lowered for m in _CONTEXT_LENGTH_MARKERS):
        return "context_length"
    return kind


def _error_fields(body: bytes) -> tuple[str | None, str | None]:
    """(`__type` or `code`, `message` or `Message`) of a JSON error body; None where absent."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(parsed, dict):
        return None, None
    error_type = parsed.get("__type", parsed.get("code"))
    message = parsed.get("message", parsed.get("Message"))
    if isinstance(error_type, str):
        # rest-json may qualify it: "com.amazon.bedrock#ThrottlingException".
        error_type = error_type.rsplit("#", 1)[-1].split(":", 1)[0]
    return (
        error_type if isinstance(error_type, str) and error_type else None,
        message if isinstance(message, str) and message else None,
    )
