"""Reading untrusted JSON request bodies and writing JSON for the fake upstreams.

Readers never raise on a wrongly shaped field: they answer `None` or an empty
value, so the fakes decide what is a 400 instead of crashing into a 500.
"""

import json
from collections.abc import Mapping
from typing import cast

JsonObject = dict[str, object]
"""A decoded JSON object; vendor JSON stays a dict so unknown fields survive."""


def parse_object(body: bytes) -> JsonObject | None:
    """Decode `body` as a JSON object, or answer `None` if it is not one."""
    try:
        value: object = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    return cast("JsonObject", value) if isinstance(value, dict) else None


def dump_json(value: object) -> str:
    """Compact JSON, as the vendors send it (no spaces, UTF-8 kept as is)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def str_field(obj: Mapping[str, object], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def int_field(obj: Mapping[str, object], key: str) -> int | None:
    value = obj.get(key)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    return cast("int", value) if is_int else None


def list_field(obj: Mapping[str, object], key: str) -> list[object]:
    value = obj.get(key)
    return cast("list[object]", value) if isinstance(value, list) else []


def object_field(obj: Mapping[str, object], key: str) -> JsonObject:
    return as_object(obj.get(key))


def as_object(value: object) -> JsonObject:
    """`value` if it is a JSON object, else an empty one."""
    return cast("JsonObject", value) if isinstance(value, dict) else {}


def objects_in(items: list[object]) -> list[JsonObject]:
    """The JSON objects among `items`, in order; other values are skipped."""
    return [cast("JsonObject", item) for item in items if isinstance(item, dict)]


def count_text_chars(value: object) -> int:
    """Total length of every string value (not key) nested in `value`."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(count_text_chars(item) for item in value.values())
    if isinstance(value, list):
        return sum(count_text_chars(item) for item in value)
    return 0
