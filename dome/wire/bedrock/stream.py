"""ConverseStream event-stream bytes to canonical stream events (WIRE-FORMATS 4.3).

Pure, sans I/O. Frames are parsed by botocore (`eventstream.py`); this module maps the
decoded messages. Bedrock's order differs from the canonical one in two ways:

* text and reasoning blocks get no `contentBlockStart`: their first delta opens them;
* the stop reason (`messageStop`) comes before the usage (`metadata`): the canonical
  MessageDelta and MessageStop are emitted at `metadata`, Bedrock's last event.

Deltas are keyed by `contentBlockIndex`, never by the last block started; a delta of
another kind than its block is malformed (WIRE-FORMATS pitfall 4). The `p` padding
field and `citation` deltas are ignored. An `exception` message raises
`ConverseStreamExceptionError`, carrying its canonical `Failure`.
"""

from __future__ import annotations

from typing import Any

from dome.errors import UpstreamStreamError
from dome.wire.answer_fields import MalformedAnswerError, json_value, object_at, string_at
from dome.wire.bedrock.decode import (
    stop_reason,
    stop_sequence,
    stream_exception,
    usage,
)
from dome.wire.bedrock.eventstream import EventMessage, EventStreamDecoder
from dome.wire.canonical import (
    BlockStart,
    BlockStop,
    ContentBlock,
    MessageDelta,
    MessageStart,
    MessageStop,
    RedactedThinkingBlock,
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


class ConverseStreamDecoder:
    """ConverseStream bytes in, canonical events out; `complete` after `metadata`.

    `response_id` and `model` fill the MessageStart, since Converse sends neither
    (use the `x-amzn-RequestId` header and the model asked for).
    """

    __slots__ = ("_blocks", "_frames", "_model", "_response_id", "_started", "_stop", "complete")

    def __init__(self, response_id: str = "", model: str = "") -> None:
        self._frames = EventStreamDecoder()
        self._response_id = response_id
        self._model = model
        self._blocks: dict[int, type[ContentBlock]] = {}
        self._started = False
        self._stop: tuple[StopReason, str | None] | None = None
        self.complete = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """The events completed by `chunk`.

        Raises:
            ConverseStreamExceptionError: the stream sent an exception message.
            UpstreamStreamError: a broken frame, a transport error or a malformed event.
        """
        events: list[StreamEvent] = []
        for message in self._frames.feed(chunk):
            events.extend(self.decode_message(message))
        return events

    def decode_message(self, message: EventMessage) -> list[StreamEvent]:
        """The events of one already-parsed message (for callers holding messages)."""
        if message.message_type == "exception":
            raise stream_exception(message.exception_type, message.payload)
        if message.message_type != "event":
            code = message.headers.get(":error-code")
            code = code if isinstance(code, str) else "unknown"
            raise UpstreamStreamError(f"the provider's event stream sent an error: {code}")
        try:
            return self._event(message.event_type, object_at(json_value(message.payload), "event"))
        except MalformedAnswerError as exc:
            text = f"the provider's stream is malformed: {message.event_type}: {exc}"
            raise UpstreamStreamError(text) from exc

    def _event(self, name: str, data: dict[str, Any]) -> list[StreamEvent]:
        if name == "messageStart":
            self._started = True
            return [MessageStart(self._response_id, self._model, Usage())]
        if not self._started:
            raise MalformedAnswerError("an event before messageStart")
        match name:
            case "contentBlockStart":
                return self._block_start(data)
            case "contentBlockDelta":
                return self._delta(data)
            case "contentBlockStop":
                index = _index(data)
                if self._blocks.get(index) is None:
                    raise MalformedAnswerError(f"block {index} was never started")
                return [BlockStop(index)]
            case "messageStop":
                reason = stop_reason(data.get("stopReason"), "messageStop.stopReason")
                self._stop = (reason, stop_sequence(data.get("additionalModelResponseFields")))
                return []
            case "metadata":
                return self._metadata(data)
            case _:
                return []  # event types added after this was written

    def _block_start(self, data: dict[str, Any]) -> list[StreamEvent]:
        index = _index(data)
        start = object_at(data.get("start"), "start")
        if "toolUse" not in start:
            kinds = ", ".join(sorted(start)) or "empty"
            raise MalformedAnswerError(f"a {kinds} block start, which cannot be translated")
        tool_use = object_at(start["toolUse"], "start.toolUse")
        call = ToolCallBlock(
            string_at(tool_use, "toolUseId", "start.toolUse"),
            string_at(tool_use, "name", "start.toolUse"),
            "",
        )
        self._blocks[index] = ToolCallBlock
        return [BlockStart(index, call)]

    def _delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        index = _index(data)
        delta = object_at(data.get("delta"), "delta")
        if "text" in delta:
            return [
                *self._open(index, TextBlock("")),
                TextDelta(index, string_at(delta, "text", "delta")),
            ]
        if "toolUse" in delta:
            self._expect(index, ToolCallBlock)
            fragment = string_at(
                object_at(delta["toolUse"], "delta.toolUse"), "input", "delta.toolUse"
            )
            return [ToolArgumentsDelta(index, fragment)] if fragment else []
        if "reasoningContent" in delta:
            return self._reasoning(
                index, object_at(delta["reasoningContent"], "delta.reasoningContent")
            )
        return []  # citation deltas and kinds added later

    def _reasoning(self, index: int, reasoning: dict[str, Any]) -> list[StreamEvent]:
        path = "delta.reasoningContent"
        if "redactedContent" in reasoning:
            block = RedactedThinkingBlock(string_at(reasoning, "redactedContent", path))
            return self._open(index, block)
        opened = self._open(index, ThinkingBlock(""))
        if "text" in reasoning:
            return [*opened, ThinkingDelta(index, string_at(reasoning, "text", path))]
        if "signature" in reasoning:
            return [*opened, SignatureDelta(index, string_at(reasoning, "signature", path))]
        return opened

    def _open(self, index: int, block: ContentBlock) -> list[StreamEvent]:
        """BlockStart for a block Bedrock opens with its first delta; [] when open."""
        if index in self._blocks:
            self._expect(index, type(block))
            return []
        self._blocks[index] = type(block)
        return [BlockStart(index, block)]

    def _expect(self, index: int, kind: type[ContentBlock]) -> None:
        opened = self._blocks.get(index)
        if opened is None:
            raise MalformedAnswerError(f"block {index} was never started")
        if opened is not kind:
            raise MalformedAnswerError(
                f"a {kind.__name__} delta in block {index}, a {opened.__name__}"
            )

    def _metadata(self, data: dict[str, Any]) -> list[StreamEvent]:
        if self._stop is None:
            raise MalformedAnswerError("metadata before messageStop")
        reason, sequence = self._stop
        self.complete = True
        delta = MessageDelta(reason, usage(data.get("usage"), "metadata.usage"), sequence)
        return [delta, MessageStop()]


def _index(data: dict[str, Any]) -> int:
    index = data.get("contentBlockIndex")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise MalformedAnswerError("contentBlockIndex: expected a non-negative integer")
    return index
