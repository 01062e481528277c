"""Reading usage and completeness off OpenAI chat answers, streamed or whole.

The broker relays upstream bytes untouched; these observers only look. A stream is
complete only when `data: [DONE]` arrived (WIRE-FORMATS 1, 2.4).
"""

from __future__ import annotations

from typing import Any

import orjson

from dome.wire.sse import MarkedEventScanner
from dome.wire.usage import ReportedUsage, as_count, as_object


def chat_usage(usage: object) -> ReportedUsage | None:
    """OpenAI `CompletionUsage`, or an embeddings `usage`, in the broker's vocabulary.

    `prompt_tokens` already counts cached input (WIRE-FORMATS 6.3), as
    `gen_ai.usage.input_tokens` does; `completion_tokens` counts reasoning. Embeddings
    report only `prompt_tokens` and `total_tokens` (prompt + completion by the
    spec's definition), so their output is `total_tokens - prompt_tokens`, i.e. 0.
    """
    if not isinstance(usage, dict):
        return None
    prompt = as_count(usage.get("prompt_tokens"))
    completion = as_count(usage.get("completion_tokens"))
    total = as_count(usage.get("total_tokens"))
    if completion is None and prompt is not None and total is not None and total >= prompt:
        completion = total - prompt
    prompt_details = as_object(usage.get("prompt_tokens_details"))
    completion_details = as_object(usage.get("completion_tokens_details"))
    return ReportedUsage(
        raw=usage,
        input_tokens=prompt,
        output_tokens=completion,
        cache_read_tokens=as_count(prompt_details.get("cached_tokens")) or 0,
        # Optional and newest in the spec: "prompt tokens written to cache".
        cache_write_tokens=as_count(prompt_details.get("cache_write_tokens")) or 0,
        reasoning_tokens=as_count(completion_details.get("reasoning_tokens")) or 0,
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
