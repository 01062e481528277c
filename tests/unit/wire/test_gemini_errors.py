"""Google error bodies to canonical failures (WIRE-FORMATS 5.5)."""

from __future__ import annotations

import orjson
import pytest

from dome.wire.canonical import Failure
from dome.wire.gemini import read_failure


def _error(code: int, status: str, message: str = "m") -> bytes:
    return orjson.dumps({"error": {"code": code, "message": message, "status": status}})


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        (400, "INVALID_ARGUMENT", "invalid_request"),
        (400, "FAILED_PRECONDITION", "invalid_request"),
        (401, "UNAUTHENTICATED", "authentication"),
        (403, "PERMISSION_DENIED", "permission"),
        (404, "NOT_FOUND", "not_found"),
        (429, "RESOURCE_EXHAUSTED", "rate_limit"),
        (500, "INTERNAL", "server"),
        (503, "UNAVAILABLE", "overloaded"),
        (504, "DEADLINE_EXCEEDED", "timeout"),
    ],
)
def test_google_status_decides(code: int, status: str, kind: str) -> None:
    assert read_failure(code, _error(code, status, "why")) == Failure(kind, "why")  # type: ignore[arg-type]


def test_status_wins_over_http_status() -> None:
    # a proxy's status line may differ; Google's own status names the cause
    assert read_failure(500, _error(500, "RESOURCE_EXHAUSTED")).kind == "rate_limit"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, "authentication"),
        (429, "rate_limit"),
        (503, "overloaded"),
        (502, "server"),
        (418, "invalid_request"),
    ],
)
def test_bodies_that_are_not_google_errors_fall_back_to_http_status(status: int, kind: str) -> None:
    failure = read_failure(status, b"<html>upstream connect error</html>")

    assert failure.kind == kind
    assert "html" not in failure.message


def test_array_wrapped_error_of_the_non_sse_stream() -> None:
    body = b"[" + _error(429, "RESOURCE_EXHAUSTED", "quota") + b"]"

    assert read_failure(429, body) == Failure("rate_limit", "quota")


def test_too_long_prompt_is_context_length() -> None:
    message = (
        "The input token count (2000000) exceeds the maximum number of tokens allowed (1048576)."
    )

    assert read_failure(400, _error(400, "INVALID_ARGUMENT", message)).kind == "context_length"
