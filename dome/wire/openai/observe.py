"""Reading usage and completeness off OpenAI chat answers, streamed or whole.

The broker relays upstream bytes untouched; these observers only look. A stream is
complete only when `data: [DONE]` arrived (WIRE-FORMATS 1, 2.4).
"""

from __future__ import annotations

from typing import Any

import orjson

from dome.wire.sse import MarkedEventScanner
from dome.wire.usage import ReportedUsage, as_count


def chat_usage(usage: object) -> ReportedUsage | None:
    if not isinstance(usage, dict):
        return None
    return ReportedUsage(
        raw=usage,
        input_tokens=as_count(usage.get("prompt_tokens")),
        output_tokens=as_count(usage.get("completion_tokens")),
    )


def usage_from_chat_body(body: bytes) -> ReportedUsage | None:
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return chat_usage(parsed.get("usage")) if isinstance(parsed, dict) else None


# Only these events matter: a usage object (not `"usage":null`), an error, the end.
_MARKERS = (b'"usage":{', b'"usage": {', b'"error"', b"[DONE]")


class ChatStreamObserver:
    """Watches a relayed chat completion stream for usage, errors and its end."""

    __slots__ = ("_scanner", "complete", "error", "usage")

    def __init__(self) -> None:
        self._scanner = MarkedEventScanner(_MARKERS)
        self.usage: ReportedUsage | None = None
        self.complete = False
        self.error: dict[str, Any] | None = None

    def feed(self, chunk: bytes) -> None:
        for event in self._scanner.feed(chunk):
            data = event.data
            if data == b"[DONE]":
                self.complete = True
            elif b'"usage"' in data or b'"error"' in data:
                self._inspect(data)

    def _inspect(self, data: bytes) -> None:
        try:
            parsed: Any = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if not isinstance(parsed, dict):
            return
        if parsed.get("error"):
            self.error = parsed["error"] if isinstance(parsed["error"], dict) else {}
        usage = chat_usage(parsed.get("usage"))
        if usage is not None:
            self.usage = usage
