"""Metering a chat stream whose agent did not ask for usage.

The broker always asks the provider for usage (`stream_options.include_usage`), since a
stream without it could only be estimated. The agent then must not see what it did not
ask for: the final usage-only chunk (`"choices": []`) is dropped, and the `"usage": null`
that every other chunk then carries is taken out, so the stream reads as if never asked.
"""

from __future__ import annotations

from typing import Any

import orjson

_NULL_USAGE = (b',"usage":null', b', "usage": null')
_EVENT_END = b"\n\n"
_CRLF_EVENT_END = b"\r\n\r\n"
# An "event" this long without an end is not SSE as expected: pass it on unfiltered
# rather than hold the stream back.
_MAX_PENDING = 1 << 20


def ask_for_usage(raw: bytes, body: dict[str, Any]) -> bytes:
    """`raw` with `stream_options.include_usage` true. Spliced in when the agent sent no
    `stream_options` (the rest of the bytes stay as sent), else the body re-encoded."""
    options = body.get("stream_options")
    if options is None and "stream_options" not in body:
        start = raw.index(b"{") + 1
        rest = raw[start:].lstrip()
        comma = b"" if rest.startswith(b"}") else b","
        return raw[:start] + b'"stream_options":{"include_usage":true}' + comma + raw[start:]
    merged = dict(options) if isinstance(options, dict) else {}
    merged["include_usage"] = True
    return orjson.dumps({**body, "stream_options": merged})


class UsageHider:
    """Filters relayed stream bytes event by event; holds back only an incomplete
    event's tail until the rest of it arrives."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> bytes:
        data = self._pending + chunk
        separator = _CRLF_EVENT_END if b"\r\n" in data else _EVENT_END
        end = data.rfind(separator)
        if end < 0:
            if len(data) > _MAX_PENDING:
                self._pending = b""
                return data
            self._pending = data
            return b""
        cut = end + len(separator)
        complete, self._pending = data[:cut], data[cut:]
        if b'"usage"' not in complete:
            return complete
        events = complete.split(separator)[:-1]
        return b"".join(_hidden(event, separator) for event in events)

    def flush(self) -> bytes:
        rest, self._pending = self._pending, b""
        return rest


def _hidden(event: bytes, separator: bytes) -> bytes:
    if (b'"usage":{' in event or b'"usage": {' in event) and _is_usage_only(event):
        return b""
    for null in _NULL_USAGE:
        event = event.replace(null, b"")
    return event + separator


def _is_usage_only(event: bytes) -> bool:
    for line in event.splitlines():
        if line.startswith(b"data:"):
            try:
                parsed = orjson.loads(line[5:])
            except orjson.JSONDecodeError:
                return False
            return isinstance(parsed, dict) and parsed.get("choices") == []
    return False
