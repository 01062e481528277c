"""Reading usage and completeness off Anthropic message answers, streamed or whole.

Input tokens arrive in `message_start`, output tokens (cumulative) in `message_delta`;
a stream is complete only at `message_stop` (WIRE-FORMATS 3.4).
"""

from __future__ import annotations

from typing import Any

import orjson

from dome.wire.sse import MarkedEventScanner
from dome.wire.usage import ReportedUsage, as_count, as_object, counted_usage


def message_usage(usage: object) -> ReportedUsage | None:
    """Anthropic `Usage` in the broker's vocabulary.

    Anthropic's `input_tokens` excludes the cache (WIRE-FORMATS 6.3): the broker's
    input is `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`,
    as OpenTelemetry's `gen_ai.usage.input_tokens` counts it. `output_tokens` counts
    thinking; `output_tokens_details.thinking_tokens` is its reasoning part.
    """
    if not isinstance(usage, dict):
        return None
    uncached = as_count(usage.get("input_tokens"))
    cache_read = as_count(usage.get("cache_read_input_tokens")) or 0
    cache_write = as_count(usage.get("cache_creation_input_tokens"))
    if cache_write is None:
        cache_write = _cache_creation_total(usage.get("cache_creation"))
    details = as_object(usage.get("output_tokens_details"))
    return ReportedUsage(
        raw=usage,
        input_tokens=None if uncached is None else uncached + cache_read + cache_write,
        output_tokens=as_count(usage.get("output_tokens")),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=as_count(details.get("thinking_tokens")) or 0,
    )


def _cache_creation_total(breakdown: object) -> int:
    """Cache writes by lifetime (`ephemeral_5m_input_tokens`, `ephemeral_1h_input_tokens`),
    summed: used only when the total `cache_creation_input_tokens` is missing."""
    return sum(as_count(count) or 0 for count in as_object(breakdown).values())


def usage_from_message_body(body: bytes) -> ReportedUsage | None:
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return message_usage(parsed.get("usage")) if isinstance(parsed, dict) else None


def usage_from_count_body(body: bytes) -> ReportedUsage | None:
    """`{"input_tokens": N}` answers a count: N is counted, nothing is consumed."""
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(parsed, dict):
        return None
    return counted_usage(parsed, as_count(parsed.get("input_tokens")))


class MessageStreamObserver:
    """Watches a relayed message stream for usage, errors and its end."""

    __slots__ = ("_scanner", "_usage", "complete", "error")

    _INSPECTED = frozenset({"message_start", "message_delta", "error"})
    # Content deltas, the bulk of a stream, are skipped without being decoded.
    _MARKERS = (b"message_start", b"message_delta", b"message_stop", b"error")

    def __init__(self) -> None:
        self._scanner = MarkedEventScanner(self._MARKERS)
        self._usage: dict[str, Any] = {}
        self.complete = False
        self.error: dict[str, Any] | None = None

    @property
    def usage(self) -> ReportedUsage | None:
        return message_usage(dict(self._usage)) if self._usage else None

    def feed(self, chunk: bytes) -> None:
        for event in self._scanner.feed(chunk):
            if event.event == "message_stop":
                self.complete = True
            elif event.event in self._INSPECTED:
                self._inspect(event.event, event.data)

    def _inspect(self, name: str | None, data: bytes) -> None:
        try:
            parsed: Any = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if not isinstance(parsed, dict):
            return
        if name == "error":
            error = parsed.get("error")
            self.error = error if isinstance(error, dict) else {}
            return
        source = parsed.get("message") if name == "message_start" else parsed
        usage = source.get("usage") if isinstance(source, dict) else None
        if isinstance(usage, dict):
            # message_delta counts are cumulative: later values replace earlier ones.
            self._usage.update({k: v for k, v in usage.items() if v is not None})
