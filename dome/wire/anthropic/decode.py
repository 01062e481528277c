"""Anthropic Messages answers, whole or streamed, to the canonical form.

Pure, sans I/O: `decode_message` reads a `message` body (WIRE-FORMATS 3.3);
`MessageStreamDecoder` takes SSE bytes in any split and returns canonical events
(WIRE-FORMATS 3.4). A malformed answer is the provider's fault: `UpstreamUnavailableError`
for a body, `UpstreamStreamError` for a stream.

Decisions: tool `input` becomes compact JSON text; `ping` events, event types this
module does not know (Anthropic adds new ones) and `citations_delta` are skipped
(citations only point into documents and search results, which requests to us never
carry; the cited text itself arrives as `text_delta`); text blocks' `citations` are
likewise not carried. Block types and stop reasons outside the canonical form are
errors, since they cannot be passed on faithfully.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, get_args

import orjson

from dome.errors import UpstreamStreamError, UpstreamUnavailableError
from dome.wire.answer_fields import (
    MalformedAnswerError,
    count_at,
    json_value,
    object_at,
    string_at,
)
from dome.wire.canonical import (
    BlockStart,
    BlockStop,
    ContentBlock,
    MessageDelta,
    MessageStart,
    MessageStop,
    RedactedThinkingBlock,
    Response,
    SignatureDelta,
    StopReason,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolArgumentsDelta,
    ToolCallBlock,
    Usage,
)
from dome.wire.sse import SseDecoder

STOP_REASONS: Mapping[str, StopReason] = MappingProxyType({r: r for r in get_args(StopReason)})

# Which block type each delta type may extend (pitfall 4: never mix them).
_DELTA_BLOCK_TYPES: Mapping[str, type[ContentBlock]] = MappingProxyType(
    {
        "text_delta": TextBlock,
        "input_json_delta": ToolCallBlock,
        "thinking_delta": ThinkingBlock,
        "signature_delta": ThinkingBlock,
    }
)


_DECODED_EVENTS = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "error",
    }
)


def decode_message(body: bytes) -> Response:
    """The canonical answer of a non-streamed `message` body.

    Raises:
        UpstreamUnavailableError: the body is not a well-formed `message`.
    """
    try:
        return _message(object_at(json_value(body), "message"))
    except MalformedAnswerError as exc:
        message = f"the provider answered with a malformed message: {exc}"
        raise UpstreamUnavailableError(message) from exc


class MessageStreamDecoder:
    """Anthropic SSE bytes in, canonical stream events out; `complete` after message_stop.

    An `error` event raises `UpstreamStreamError` with the provider's error type and
    message; events decoded earlier in the same `feed` call are discarded with it.
    """

    __slots__ = ("_blocks", "_sse", "complete")

    def __init__(self) -> None:
        self._sse = SseDecoder()
        self._blocks: dict[int, type[ContentBlock]] = {}
        self.complete = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """The events completed by `chunk`.

        Raises:
            UpstreamStreamError: an `error` event, invalid JSON or a malformed event.
        """
        events: list[StreamEvent] = []
        for sse in self._sse.feed(chunk):
            try:
                events.extend(self._event(sse.event, sse.data))
            except MalformedAnswerError as exc:
                message = f"the provider's stream is malformed: {exc}"
                raise UpstreamStreamError(message) from exc
        return events

    def _event(self, name: str | None, raw: bytes) -> list[StreamEvent]:
        if name is not None and name not in _DECODED_EVENTS:
            return []  # ping, and event types added after this was written
        data = object_at(json_value(raw), name or "event")
        match name or data.get("type"):
            case "message_start":
                message = object_at(data.get("message"), "message_start.message")
                start = MessageStart(
                    id=string_at(message, "id", "message"),
                    model=string_at(message, "model", "message"),
                    usage=_usage(message.get("usage"), "message.usage"),
                )
                return [start]
            case "content_block_start":
                return self._block_start(data)
            case "content_block_delta":
                return self._delta(data)
            case "content_block_stop":
                return [BlockStop(self._open_index(data))]
            case "message_delta":
                return [_message_delta(data)]
            case "message_stop":
                self.complete = True
                return [MessageStop()]
            case "error":
                raise _stream_error(data)
            case _:
                return []

    def _block_start(self, data: dict[str, Any]) -> list[StreamEvent]:
        index = _index(data)
        block = _block(object_at(data.get("content_block"), "content_block"), "content_block")
        self._blocks[index] = type(block)
        # The start carries empty content; should a provider put content there, it
        # follows as a delta so the BlockStart stays empty (canonical BlockStart).
        match block:
            case TextBlock(text=text):
                return [
                    BlockStart(index, TextBlock("")),
                    *([TextDelta(index, text)] if text else []),
                ]
            case ToolCallBlock(arguments=arguments):
                empty = ToolCallBlock(block.id, block.name, "")
                fragments = [ToolArgumentsDelta(index, arguments)] if arguments != "{}" else []
                return [BlockStart(index, empty), *fragments]
            case ThinkingBlock(text=text, signature=signature):
                rest: list[StreamEvent] = [ThinkingDelta(index, text)] if text else []
                if signature:
                    rest.append(SignatureDelta(index, signature))
                return [BlockStart(index, ThinkingBlock("")), *rest]
            case RedactedThinkingBlock():
                return [BlockStart(index, block)]

    def _delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        index = self._open_index(data)
        delta = object_at(data.get("delta"), "delta")
        kind = delta.get("type")
        expected = _DELTA_BLOCK_TYPES.get(str(kind))
        if expected is None:
            return []  # citations_delta and delta types added later
        if self._blocks[index] is not expected:
            raise MalformedAnswerError(f"a {kind} in block {index}, which is of another type")
        match kind:
            case "text_delta":
                return [TextDelta(index, string_at(delta, "text", "delta"))]
            case "input_json_delta":
                return [ToolArgumentsDelta(index, string_at(delta, "partial_json", "delta"))]
            case "thinking_delta":
                return [ThinkingDelta(index, string_at(delta, "thinking", "delta"))]
            case _:
                return [SignatureDelta(index, string_at(delta, "signature", "delta"))]

    def _open_index(self, data: dict[str, Any]) -> int:
        index = _index(data)
        if index not in self._blocks:
            raise MalformedAnswerError(f"block {index} was never started")
        return index


def _index(data: dict[str, Any]) -> int:
    index = data.get("index")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise MalformedAnswerError("index: expected a non-negative integer")
    return index


def _usage(value: object, path: str) -> Usage:
    """WIRE-FORMATS 6.3: input excludes cache reads and writes; output includes thinking."""
    usage = object_at(value, path)
    details = usage.get("output_tokens_details")
    thinking = 0 if details is None else count_at(object_at(details, path), "thinking_tokens", path)
    return Usage(
        input_tokens=count_at(usage, "input_tokens", path),
        output_tokens=count_at(usage, "output_tokens", path),
        cache_read_tokens=count_at(usage, "cache_read_input_tokens", path),
        cache_write_tokens=count_at(usage, "cache_creation_input_tokens", path),
        reasoning_tokens=thinking,
    )


def _stop_reason(value: object, path: str) -> StopReason:
    reason = STOP_REASONS.get(value) if isinstance(value, str) else None
    if reason is None:
        raise MalformedAnswerError(f"{path}: unknown stop reason {value!r}")
    return reason


def _stop_sequence(value: object, path: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise MalformedAnswerError(f"{path}: expected a string or null")
    return value


def _block(block: dict[str, Any], path: str) -> ContentBlock:
    match block.get("type"):
        case "text":
            return TextBlock(string_at(block, "text", path))
        case "tool_use":
            tool_input = object_at(block.get("input"), f"{path}.input")
            arguments = orjson.dumps(tool_input).decode()
            return ToolCallBlock(
                string_at(block, "id", path), string_at(block, "name", path), arguments
            )
        case "thinking":
            return ThinkingBlock(
                string_at(block, "thinking", path), string_at(block, "signature", path)
            )
        case "redacted_thinking":
            return RedactedThinkingBlock(string_at(block, "data", path))
        case other:
            raise MalformedAnswerError(f"{path}: a {other!r} block, which cannot be translated")


def _message(message: dict[str, Any]) -> Response:
    content = message.get("content")
    if not isinstance(content, list):
        raise MalformedAnswerError("content: expected an array")
    blocks = tuple(
        _block(object_at(item, f"content.{i}"), f"content.{i}") for i, item in enumerate(content)
    )
    return Response(
        id=string_at(message, "id", "message"),
        model=string_at(message, "model", "message"),
        content=blocks,
        stop_reason=_stop_reason(message.get("stop_reason"), "stop_reason"),
        usage=_usage(message.get("usage"), "usage"),
        stop_sequence=_stop_sequence(message.get("stop_sequence"), "stop_sequence"),
    )


def _message_delta(data: dict[str, Any]) -> MessageDelta:
    """Usage here is cumulative; input and cache counts are 0 when not repeated."""
    delta = object_at(data.get("delta"), "message_delta.delta")
    return MessageDelta(
        stop_reason=_stop_reason(delta.get("stop_reason"), "delta.stop_reason"),
        usage=_usage(data.get("usage"), "message_delta.usage"),
        stop_sequence=_stop_sequence(delta.get("stop_sequence"), "delta.stop_sequence"),
    )


def _stream_error(data: dict[str, Any]) -> UpstreamStreamError:
    """The `error` event: `{"type": "error", "error": {"type", "message"}}` (WIRE-FORMATS 3.4)."""
    error = data.get("error")
    error_type = message = None
    if isinstance(error, dict):
        error_type, message = error.get("type"), error.get("message")
    kind = error_type if isinstance(error_type, str) else "unknown_error"
    text = message if isinstance(message, str) else "no message"
    return UpstreamStreamError(f"the provider's stream failed: {kind}: {text}")
