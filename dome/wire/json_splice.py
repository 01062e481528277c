"""Replace one top-level string member of a JSON object without re-encoding the rest.

Same-format forwarding must keep the agent's body byte-faithful except the model name;
parsing and re-serializing would reorder nothing but could change number spelling,
escapes and whitespace. This scanner finds the exact byte span of the member's value.
"""

from __future__ import annotations

import orjson

_WHITESPACE = b" \t\r\n"


def replace_top_level_string(body: bytes, key: str, value: str) -> bytes:
    """Return `body` with the top-level `key`'s value replaced by the JSON string `value`.

    The body must be a valid JSON object (the caller parsed it already) whose `key`
    holds a string. Raises ValueError otherwise.
    """
    span = _find_member_value(body, key)
    if span is None:
        msg = f"no top-level string member {key!r}"
        raise ValueError(msg)
    start, end = span
    return body[:start] + orjson.dumps(value) + body[end:]


def _find_member_value(body: bytes, key: str) -> tuple[int, int] | None:
    position = _skip_whitespace(body, 0)
    if body[position : position + 1] != b"{":
        return None
    position += 1
    found: tuple[int, int] | None = None
    while True:
        position = _skip_whitespace(body, position)
        if body[position : position + 1] == b"}":
            return found
        key_end = _string_end(body, position)
        member_key = orjson.loads(body[position:key_end])
        position = _skip_whitespace(body, key_end)
        position = _skip_whitespace(body, position + 1)  # past the colon
        value_end = _value_end(body, position)
        if member_key == key and body[position : position + 1] == b'"':
            found = (position, value_end)  # the last duplicate wins, as in the parsers
        position = _skip_whitespace(body, value_end)
        if body[position : position + 1] == b",":
            position += 1


def _skip_whitespace(body: bytes, position: int) -> int:
    size = len(body)
    while position < size and body[position] in _WHITESPACE:
        position += 1
    return position


def _string_end(body: bytes, position: int) -> int:
    """Index just past the string starting at `position` (which holds the quote)."""
    index = position + 1
    while True:
        quote = body.index(b'"', index)
        backslashes = 0
        while body[quote - 1 - backslashes] == 0x5C:  # backslash
            backslashes += 1
        if backslashes % 2 == 0:
            return quote + 1
        index = quote + 1


def _value_end(body: bytes, position: int) -> int:
    first = body[position : position + 1]
    if first == b'"':
        return _string_end(body, position)
    if first in (b"{", b"["):
        return _container_end(body, position)
    index = position
    size = len(body)
    while index < size and body[index] not in b",}] \t\r\n":
        index += 1
    return index


def _container_end(body: bytes, position: int) -> int:
    depth = 0
    index = position
    while True:
        char = body[index]
        if char == 0x22:  # a string may hold brackets: skip it whole
            index = _string_end(body, index)
            continue
        if char in (0x7B, 0x5B):
            depth += 1
        elif char in (0x7D, 0x5D):
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
