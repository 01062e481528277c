"""The facts every later step needs from an agent's request, lifted out of its JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from dome.errors import InvalidRequestError
from dome.wire.formats import Operation, WireFormat


@dataclass(frozen=True, slots=True)
class RequestFacts:
    format: WireFormat
    operation: Operation
    model: str
    stream: bool
    max_output_tokens: int | None
    include_usage: bool  # OpenAI stream_options.include_usage


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or InvalidRequestError saying what is wrong."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        msg = f"request body is not valid JSON: {exc.msg}"
        raise InvalidRequestError(msg) from exc
    if not isinstance(body, dict):
        msg = "request body must be a JSON object"
        raise InvalidRequestError(msg)
    return body


def required_string(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if value is None:
        raise InvalidRequestError(f"{field}: field required", param=field)
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"{field}: expected a non-empty string", param=field)
    return value


def required_list(body: dict[str, Any], field: str) -> list[Any]:
    value = body.get(field)
    if value is None:
        raise InvalidRequestError(f"{field}: field required", param=field)
    if not isinstance(value, list):
        raise InvalidRequestError(f"{field}: expected an array", param=field)
    return value


def optional_bool(body: dict[str, Any], field: str) -> bool:
    value = body.get(field, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidRequestError(f"{field}: expected a boolean", param=field)
    return value


def optional_int(body: dict[str, Any], field: str) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequestError(f"{field}: expected a non-negative integer", param=field)
    return value
