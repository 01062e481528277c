"""What every admin API handler shares: JSON in, JSON out, errors as `{"error": ...}`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from dome.errors import DomeError, InvalidRequestError
from dome.wire.facts import parse_json_object

if TYPE_CHECKING:
    from dome.server.runtime import Runtime

Handler = Callable[[Request, "Runtime"], Awaitable[Response]]


def json_response(data: object, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


def error_response(error: DomeError) -> Response:
    body = {"error": {"type": error.error_type, "message": error.message}}
    return json_response(body, error.status_code)


async def read_body(request: Request) -> dict[str, Any]:
    return parse_json_object(await request.body())


def required_text(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"{field}: field required", param=field)
    return value


def optional_text(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"{field}: expected a non-empty string", param=field)
    return value


def optional_count(body: dict[str, Any], field: str) -> int:
    """A non-negative integer field; absent is 0."""
    value = body.get(field, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequestError(f"{field}: expected a non-negative integer", param=field)
    return value
