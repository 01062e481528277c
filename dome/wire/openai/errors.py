"""OpenAI error bodies: `{"error": {"message", "type", "param", "code"}}` (WIRE-FORMATS 2.5)."""

from __future__ import annotations

import orjson

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
