"""Canonical responses and stream events to OpenAI Chat Completions JSON and SSE.

Pure: no I/O, no clock (the caller passes `created`). WIRE-FORMATS 2.3, 2.4, 6.2, 6.3.
Thinking travels in the extensions of `thinking.py`: `reasoning_content` and
`thinking_blocks` (streamed per delta, each entry with an `index` so the SDK's stream
helper accumulates them into whole signed blocks a client can send back).
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

import orjson

from dome.errors import UpstreamStreamError
from dome.wire.canonical import (
    BlockStart,
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
from dome.wire.openai.thinking import thinking_entries

FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]

# WIRE-FORMATS 6.2, Anthropic column read right to left.
FINISH_REASONS: dict[StopReason, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

_DONE = b"data: [DONE]\n\n"


class FunctionJSON(TypedDict):
    name: str
    arguments: str


class ToolCallJSON(TypedDict):
    id: str
    type: Literal["function"]
    function: FunctionJSON


class AssistantMessageJSON(TypedDict):
    role: Literal["assistant"]
    content: str | None
    refusal: None
    annotations: list[object]
    tool_calls: NotRequired[list[ToolCallJSON]]
    reasoning_content: NotRequired[str]  # extension: see thinking.py
    thinking_blocks: NotRequired[list[dict[str, str]]]


class ChoiceJSON(TypedDict):
    index: int
    message: AssistantMessageJSON
    finish_reason: FinishReason
    logprobs: None


class PromptTokensDetailsJSON(TypedDict):
    cached_tokens: int
    audio_tokens: int
    cache_write_tokens: NotRequired[int]


class CompletionTokensDetailsJSON(TypedDict):
    reasoning_tokens: int
    audio_tokens: int
    accepted_prediction_tokens: int
    rejected_prediction_tokens: int


class UsageJSON(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetailsJSON
    completion_tokens_details: CompletionTokensDetailsJSON


class ChatCompletionJSON(TypedDict):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChoiceJSON]
    usage: UsageJSON


def encode_usage(usage: Usage) -> UsageJSON:
    """OpenAI counts cached input inside prompt_tokens (WIRE-FORMATS 6.3)."""
    prompt = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
    prompt_details: PromptTokensDetailsJSON = {
        "cached_tokens": usage.cache_read_tokens,
        "audio_tokens": 0,
    }
    if usage.cache_write_tokens:
        # Optional in the newest spec; sent only when there is something to say.
        prompt_details["cache_write_tokens"] = usage.cache_write_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt + usage.output_tokens,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_call(block: ToolCallBlock) -> ToolCallJSON:
    return {
        "id": block.id,
        "type": "function",
        "function": {"name": block.name, "arguments": block.arguments},
    }


def _message(response: Response) -> AssistantMessageJSON:
    texts = [block.text for block in response.content if isinstance(block, TextBlock)]
    calls = [_tool_call(b) for b in response.content if isinstance(b, ToolCallBlock)]
    # Content is null when the answer is only tool calls (WIRE-FORMATS 6.1b).
    content = "".join(texts) if texts or not calls else None
    message: AssistantMessageJSON = {
        "role": "assistant",
        "content": content,
        "refusal": None,
        "annotations": [],
    }
    if calls:
        message["tool_calls"] = calls
    entries = thinking_entries(response.content)
    if entries:
        thinking = (b.text for b in response.content if isinstance(b, ThinkingBlock))
        message["reasoning_content"] = "".join(thinking)
        message["thinking_blocks"] = entries
    return message


def encode_chat_completion(response: Response, *, created: int) -> ChatCompletionJSON:
    """A `chat.completion` object with one choice."""
    return {
        "id": response.id,
        "object": "chat.completion",
        "created": created,
        "model": response.model,
        "choices": [
            {
                "index": 0,
                "message": _message(response),
                "finish_reason": FINISH_REASONS[response.stop_reason],
                "logprobs": None,
            }
        ],
        "usage": encode_usage(response.usage),
    }


class ChatStreamEncoder:
    """Canonical stream events to `chat.completion.chunk` SSE events, for one call.

    Tool calls are numbered 0, 1, 2... among tool calls only, never by block index
    (WIRE-FORMATS 2.4 rule 4, pitfall 1).
    """

    __slots__ = (
        "_created",
        "_id",
        "_include_usage",
        "_model",
        "_start_usage",
        "_thinking_index",
        "_tool_index",
        "_usage",
    )

    def __init__(
        self, completion_id: str, model: str, created: int, *, include_usage: bool
    ) -> None:
        self._id = completion_id
        self._model = model
        self._created = created
        self._include_usage = include_usage
        self._tool_index: dict[int, int] = {}  # content block index -> tool call index
        self._thinking_index: dict[int, int] = {}  # block index -> thinking_blocks index
        self._start_usage = Usage()
        self._usage = Usage()

    def encode(self, event: StreamEvent) -> bytes:
        """The SSE bytes for `event`; empty when the event has no OpenAI counterpart."""
        return b"".join(self.frames(event))

    def frames(self, event: StreamEvent) -> tuple[bytes, ...]:
        """The SSE events for `event`, each one complete `data: ...\\n\\n` frame."""
        match event:
            case MessageStart(usage=usage):
                self._start_usage = usage
                return (self._choice_chunk({"role": "assistant", "content": ""}),)
            case BlockStart(index=index, block=ToolCallBlock() as block):
                return (self._tool_start(index, block),)
            case TextDelta(text=text) if text:
                return (self._choice_chunk({"content": text}),)
            case ToolArgumentsDelta(index=index, partial_json=fragment):
                return (self._tool_fragment(index, fragment),)
            case MessageDelta(stop_reason=reason, usage=usage):
                self._usage = merged_usage(self._start_usage, usage)
                return (self._choice_chunk({}, FINISH_REASONS[reason]),)
            case MessageStop():
                return self._closing_frames()
            case BlockStart() | ThinkingDelta() | SignatureDelta():
                return self._thinking_frames(event)
        return ()  # empty text, block stops

    def _thinking_frames(
        self, event: BlockStart | ThinkingDelta | SignatureDelta
    ) -> tuple[bytes, ...]:
        """Thinking as `reasoning_content` text plus indexed `thinking_blocks` entries."""
        match event:
            case BlockStart(index=index, block=ThinkingBlock()):
                self._thinking_index[index] = len(self._thinking_index)
            case BlockStart(index=index, block=RedactedThinkingBlock(data=data)):
                self._thinking_index[index] = len(self._thinking_index)
                return (self._thinking(index, {"type": "redacted_thinking", "data": data}),)
            case ThinkingDelta(index=index, text=text) if text:
                entry = {"type": "thinking", "thinking": text}
                return (self._thinking(index, entry, reasoning_content=text),)
            case SignatureDelta(index=index, signature=signature):
                entry = {"type": "thinking", "thinking": "", "signature": signature}
                return (self._thinking(index, entry),)
        return ()

    def _tool_start(self, index: int, block: ToolCallBlock) -> bytes:
        position = len(self._tool_index)
        self._tool_index[index] = position
        call = {
            "index": position,
            "id": block.id,
            "type": "function",
            "function": {"name": block.name, "arguments": ""},
        }
        return self._choice_chunk({"tool_calls": [call]})

    def _tool_fragment(self, index: int, fragment: str) -> bytes:
        position = self._tool_index.get(index)
        if position is None:
            message = f"tool arguments for block {index}, which is not an open tool call"
            raise UpstreamStreamError(message)
        call = {"index": position, "function": {"arguments": fragment}}
        return self._choice_chunk({"tool_calls": [call]})

    def _thinking(
        self, index: int, entry: dict[str, str], *, reasoning_content: str | None = None
    ) -> bytes:
        position = self._thinking_index.get(index)
        if position is None:
            message = f"thinking for block {index}, which is not an open thinking block"
            raise UpstreamStreamError(message)
        delta: dict[str, object] = {}
        if reasoning_content is not None:
            delta["reasoning_content"] = reasoning_content
        delta["thinking_blocks"] = [{"index": position, **entry}]
        return self._choice_chunk(delta)

    def _closing_frames(self) -> tuple[bytes, ...]:
        if not self._include_usage:
            return (_DONE,)
        # The usage chunk follows the finish chunk, with no choices (rule 6, pitfall 3).
        return (self._chunk([], encode_usage(self._usage)), _DONE)

    def _choice_chunk(
        self, delta: dict[str, object], finish_reason: FinishReason | None = None
    ) -> bytes:
        choice = {
            "index": 0,
            "delta": delta,
            "logprobs": None,
            "finish_reason": finish_reason,
        }
        return self._chunk([choice], None)

    def _chunk(self, choices: list[dict[str, object]], usage: UsageJSON | None) -> bytes:
        chunk: dict[str, object] = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": choices,
        }
        if self._include_usage:
            # With include_usage every chunk carries the key, null until the last.
            chunk["usage"] = usage
        return b"data: " + orjson.dumps(chunk) + b"\n\n"
