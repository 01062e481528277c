"""Reading a provider's answer JSON field by field, with the path of whatever is wrong.

Shared by the format decoders; each turns `MalformedAnswerError` into the right
upstream error at its edge.
"""

from __future__ import annotations

from typing import Any

import orjson


class MalformedAnswerError(Exception):
    """A shape problem at a path of a provider's answer."""


def json_value(raw: bytes) -> object:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedAnswerError(f"invalid JSON ({exc.msg})") from exc


def object_at(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedAnswerError(f"{path}: expected an object")
    return value


def string_at(obj: dict[str, Any], key: str, path: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise MalformedAnswerError(f"{path}.{key}: expected a string")
    return value


def count_at(obj: dict[str, Any], key: str, path: str) -> int:
    """A token count; absent or null is 0."""
    value = obj.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedAnswerError(f"{path}.{key}: expected a non-negative integer")
    return value
