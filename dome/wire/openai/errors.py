"""OpenAI error bodies: `{"error": {"message", "type", "param", "code"}}` (WIRE-FORMATS 2.5).

Reads an upstream's error answer into a canonical `Failure` and renders a `Failure`
for an OpenAI client (WIRE-FORMATS 6.5); classification uses status and `code`, never
message text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from dome.wire.canonical import Failure, FailureKind

# The OpenAI SDK picks its exception class by status alone; the type names follow
# what api.openai.com sends for each status.
_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_exceeded",
}


def openai_error_type(status: int) -> str:
    return _TYPE_BY_STATUS.get(status, "server_error" if status >= 500 else "invalid_request_error")


def error_body(
    status: int,
    error_type: str | None,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
) -> bytes:
    """The JSON body; `error_type` None picks the type OpenAI uses for `status`."""
    return orjson.dumps(
        {
            "error": {
                "message": message,
                "type": error_type or openai_error_type(status),
                "param": param,
                "code": code,
            }
        }
    )


def stream_error_event(status: int, error_type: str | None, message: str) -> bytes:
    """An error after the stream started: the SDK raises on a data JSON with `error`."""
    return b"data: " + error_body(status, error_type, message) + b"\n\n"


def error_message(body: Mapping[str, object]) -> str | None:
    """The message of an `{"error": ...}` body; None when `error` is absent or empty.

    OpenAI sends an object with `message`; some compatible servers send a string.
    """
    error = body.get("error")
    if not error:
        return None
    if isinstance(error, str):
        return error
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return "no message"


def read_failure(status: int, body: bytes) -> Failure:
    """An upstream's error answer in canonical form, classified by status and code.

    The message is the provider's when the body is an OpenAI error object; a body that
    is not one is never quoted (it may be an HTML page from a proxy).
    """
    error = _error_object(body)
    message = error.get("message")
    if not isinstance(message, str) or not message:
        message = f"the provider answered HTTP {status}"
    param = error.get("param")
    return Failure(
        kind=_failure_kind(status, error.get("code")),
        message=message,
        param=param if isinstance(param, str) else None,
    )


def _error_object(body: bytes) -> Mapping[str, object]:
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, str):
        return {"message": error}
    return error if isinstance(error, dict) else {}


_KIND_BY_STATUS: Mapping[int, FailureKind] = {
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


def _failure_kind(status: int, code: object) -> FailureKind:
    if code == "context_length_exceeded":
        return "context_length"
    kind = _KIND_BY_STATUS.get(status)
    if kind is not None:
        return kind
    return "server" if status >= 500 else "invalid_request"


# WIRE-FORMATS 6.5. The provider refusing the broker's own credential is the broker's
# problem, never the agent's key: 502. So is a model the provider does not know (the
# operator's model mapping): an OpenAI SDK would otherwise raise NotFoundError as if
# the agent had named an unknown model.
_STATUS_BY_KIND: Mapping[FailureKind, int] = {
    "invalid_request": 400,
    "context_length": 400,
    "too_large": 413,
    "rate_limit": 429,
    "overloaded": 503,
    "timeout": 504,
    "authentication": 502,
    "permission": 502,
    "not_found": 502,
    "server": 500,
}
_CODE_BY_KIND: Mapping[FailureKind, str] = {
    "context_length": "context_length_exceeded",
    "rate_limit": "rate_limit_exceeded",
}
# Provider messages about the broker's credential may quote part of it: say ours.
_MESSAGE_BY_KIND: Mapping[FailureKind, str] = {
    "authentication": "the provider rejected the broker's credentials for this model",
    "permission": "the provider denied the broker's credentials access to this model",
}


def render_failure(failure: Failure) -> tuple[int, bytes]:
    """The status and body an OpenAI client gets for `failure`."""
    status = _STATUS_BY_KIND[failure.kind]
    message = _MESSAGE_BY_KIND.get(failure.kind, failure.message)
    param = failure.param if status < 500 else None
    code = _CODE_BY_KIND.get(failure.kind)
    return status, error_body(status, None, message, param=param, code=code)
