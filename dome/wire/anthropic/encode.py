"""Canonical responses and stream events to Anthropic Messages JSON and SSE.

Pure: no I/O. WIRE-FORMATS 3.3, 3.4, 6.3; every SSE event carries its `event:` line
because the Anthropic SDK drops events without one (section 1). Tool call ids are
rewritten into Anthropic's charset (`anthropic_tool_id`), the same way as in requests,
so a client's tool results still name the call. A delta never goes into a block of
another type (pitfall 4): the stream encoder refuses such an event.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, NotRequired, TypedDict

import orjson

from dome.errors import UpstreamStreamError, UpstreamUnavailableError
from dome.wire.anthropic.tool_ids import anthropic_tool_id
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
    merged_usage,
)

_PING = b'event: ping\ndata: {"type":"ping"}\n\n'


class TextBlockJSON(TypedDict):
    type: Literal["text"]
    text: str


class ToolUseBlockJSON(TypedDict):
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, object]


class ThinkingBlockJSON(TypedDict):
    type: Literal["thinking"]
    thinking: str
    signature: str


class RedactedThinkingBlockJSON(TypedDict):
    type: Literal["redacted_thinking"]
    data: str


BlockJSON = TextBlockJSON | ToolUseBlockJSON | ThinkingBlockJSON | RedactedThinkingBlockJSON


class UsageJSON(TypedDict):
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int
    output_tokens_details: NotRequired[dict[str, int]]


class MessageJSON(TypedDict):
    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    model: str
    content: list[BlockJSON]
    stop_reason: StopReason | None
    stop_sequence: str | None
    usage: UsageJSON


def encode_usage(usage: Usage) -> UsageJSON:
    """Anthropic input_tokens excludes cache reads and writes (WIRE-FORMATS 6.3)."""
    encoded: UsageJSON = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
    }
    if usage.reasoning_tokens:
        encoded["output_tokens_details"] = {"thinking_tokens": usage.reasoning_tokens}
    return encoded


def tool_input(arguments: str) -> dict[str, object]:
    """Tool arguments JSON text as the `input` object; blank means `{}` (pitfall 6).

    Raises:
        UpstreamUnavailableError: the arguments are not a JSON object.
    """
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError as exc:
        message = "the model produced tool arguments that are not valid JSON"
        raise UpstreamUnavailableError(message) from exc
    if not isinstance(value, dict):
        message = "the model produced tool arguments that are not a JSON object"
        raise UpstreamUnavailableError(message)
    return value


def encode_block(block: ContentBlock) -> BlockJSON:
    match block:
        case TextBlock(text=text):
            return {"type": "text", "text": text}
        case ToolCallBlock(id=call_id, name=name, arguments=arguments):
            return {
                "type": "tool_use",
                "id": anthropic_tool_id(call_id),
                "name": name,
                "input": tool_input(arguments),
            }
        case ThinkingBlock(text=text, signature=signature):
            return {"type": "thinking", "thinking": text, "signature": signature}
        case RedactedThinkingBlock(data=data):
            return {"type": "redacted_thinking", "data": data}


def encode_message(response: Response) -> MessageJSON:
    """A `message` object; empty text blocks are dropped (the API never sends them)."""
    blocks = [
        encode_block(block)
        for block in response.content
        if not (isinstance(block, TextBlock) and not block.text)
    ]
    return {
        "id": response.id,
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": blocks,
        "stop_reason": response.stop_reason,
        "stop_sequence": response.stop_sequence,
        "usage": encode_usage(response.usage),
    }


def _event(name: str, data: Mapping[str, object]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _block_start_json(block: ContentBlock) -> BlockJSON:
    """The block as content_block_start opens it: empty, its content in deltas to come."""
    match block:
        case TextBlock():
            return {"type": "text", "text": ""}
        case ToolCallBlock(id=call_id, name=name):
            # The input arrives as input_json_delta fragments (WIRE-FORMATS 3.4).
            return {"type": "tool_use", "id": anthropic_tool_id(call_id), "name": name, "input": {}}
        case ThinkingBlock():
            return {"type": "thinking", "thinking": "", "signature": ""}
        case RedactedThinkingBlock(data=data):
            # Has no deltas: the whole block comes in its start.
            return {"type": "redacted_thinking", "data": data}


ContentDelta = TextDelta | ToolArgumentsDelta | ThinkingDelta | SignatureDelta

# Which block type each delta may extend (pitfall 4).
_DELTA_BLOCKS: Mapping[type[ContentDelta], type[ContentBlock]] = MappingProxyType(
    {
        TextDelta: TextBlock,
        ToolArgumentsDelta: ToolCallBlock,
        ThinkingDelta: ThinkingBlock,
        SignatureDelta: ThinkingBlock,
    }
)


def _delta_json(event: ContentDelta) -> dict[str, str]:
    match event:
        case TextDelta(text=text):
            return {"type": "text_delta", "text": text}
        case ToolArgumentsDelta(partial_json=fragment):
            return {"type": "input_json_delta", "partial_json": fragment}
        case ThinkingDelta(text=text):
            return {"type": "thinking_delta", "thinking": text}
        case SignatureDelta(signature=signature):
            return {"type": "signature_delta", "signature": signature}


class MessageStreamEncoder:
    """Canonical stream events to Anthropic SSE events (grammar: WIRE-FORMATS 3.4)."""

    __slots__ = ("_blocks", "_start_usage")

    def __init__(self) -> None:
        self._start_usage = Usage()
        self._blocks: dict[int, type[ContentBlock]] = {}

    def encode(self, event: StreamEvent) -> bytes:
        """The SSE bytes for `event` (one or more complete events)."""
        return b"".join(self.frames(event))

    def frames(self, event: StreamEvent) -> tuple[bytes, ...]:
        """The SSE events for `event`, each one complete `event:`/`data:` frame.

        Raises:
            UpstreamStreamError: a delta for a block not open or of another type.
        """
        match event:
            case MessageStart():
                self._start_usage = event.usage
                # The real API sends a ping right after message_start.
                return (self._message_start(event), _PING)
            case BlockStart(index=index, block=block):
                self._blocks[index] = type(block)
                start = {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": _block_start_json(block),
                }
                return (_event("content_block_start", start),)
            case BlockStop(index=index):
                stop = {"type": "content_block_stop", "index": index}
                return (_event("content_block_stop", stop),)
            case MessageDelta():
                return (self._message_delta(event),)
            case MessageStop():
                return (_event("message_stop", {"type": "message_stop"}),)
            case _:
                return (self._delta(event),)

    def _delta(self, event: ContentDelta) -> bytes:
        """A content_block_delta, only into an open block of the delta's type (pitfall 4)."""
        opened = self._blocks.get(event.index)
        if opened is not _DELTA_BLOCKS[type(event)]:
            kind = "not open" if opened is None else f"a {opened.__name__}"
            name = type(event).__name__
            message = f"the provider's stream sent a {name} for block {event.index}, {kind}"
            raise UpstreamStreamError(message)
        data = {"type": "content_block_delta", "index": event.index, "delta": _delta_json(event)}
        return _event("content_block_delta", data)

    def _message_start(self, event: MessageStart) -> bytes:
        usage = encode_usage(event.usage)
        # Clients snapshot usage here; the real API reports at least one output
        # token, and 0/0 breaks some of them (WIRE-FORMATS pitfall 3).
        usage["output_tokens"] = max(usage["output_tokens"], 1)
        message: dict[str, object] = {
            "id": event.id,
            "type": "message",
            "role": "assistant",
            "model": event.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        return _event("message_start", {"type": "message_start", "message": message})

    def _message_delta(self, event: MessageDelta) -> bytes:
        # message_delta usage is cumulative: the SDK replaces, never adds.
        usage = encode_usage(merged_usage(self._start_usage, event.usage))
        data = {
            "type": "message_delta",
            "delta": {
                "stop_reason": event.stop_reason,
                "stop_sequence": event.stop_sequence,
            },
            "usage": usage,
        }
        return _event("message_delta", data)
