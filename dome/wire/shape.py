"""Shape checks on decoded JSON that name the offending path (`messages.2.content`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from dome.errors import InvalidRequestError
from dome.wire.facts import parse_json_object

JSONObject = Mapping[str, object]


def fail(path: str, problem: str) -> NoReturn:
    raise InvalidRequestError(f"{path}: {problem}", param=path)


def as_request(body: bytes | dict[str, Any]) -> dict[str, Any]:
    """The request as a dict, parsing it first when given raw bytes."""
    return parse_json_object(body) if isinstance(body, bytes) else body


def expect_object(value: object, path: str) -> JSONObject:
    if not isinstance(value, dict):
        fail(path, "expected an object")
    return value


def expect_array(value: object, path: str) -> Sequence[object]:
    if not isinstance(value, list):
        fail(path, "expected an array")
    return value


def expect_string(value: object, path: str) -> str:
    if not isinstance(value, str):
        fail(path, "expected a string")
    return value
