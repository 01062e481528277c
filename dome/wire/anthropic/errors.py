"""Anthropic error bodies: `{"type": "error", "error": {"type", "message"}}` (WIRE-FORMATS 3.5)."""

from __future__ import annotations

import orjson

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
