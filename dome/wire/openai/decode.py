"""An upstream's Chat Completions answers, whole or streamed, to canonical form.

Pure and sans-I/O: `ChatStreamDecoder.feed` takes bytes in any split. The upstream
is OpenAI or an OpenAI-compatible server; the reasoning extensions of `thinking.py`
become thinking blocks. A malformed answer is the upstream's fault: the shape checks
of `dome.wire.shape` name the bad path, and the public entry points turn them into
`UpstreamUnavailableError` (whole answers) or `UpstreamStreamError` (streams).
WIRE-FORMATS 2.3, 2.4, 6.2, 6.3.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import orjson

from dome.errors import (
    InvalidRequestError,
    UpstreamStreamError,
    UpstreamUnavailableError,
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
from dome.wire.openai.errors import error_message
from dome.wire.openai.thinking import decode_thinking, reasoning_text, thinking_entry
from dome.wire.shape import JSONObject, expect_array, expect_object, expect_string, fail
from dome.wire.sse import SseDecoder

# WIRE-FORMATS 6.2. Values outside the table (vLLM's "abort", ...) read as end_turn.
_STOP_REASONS: Mapping[str, StopReason] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def stop_reason(finish_reason: str, *, has_tool_calls: bool, refused: bool) -> StopReason:
    """The canonical stop reason; a refusal wins, and calls make "stop" tool_use.

    Some compatible servers answer "stop" after tool calls; an Anthropic client runs
    tools only on tool_use (WIRE-FORMATS pitfall 4).
    """
    if refused:
        return "refusal"
    reason = _STOP_REASONS.get(finish_reason, "end_turn")
    return "tool_use" if reason == "end_turn" and has_tool_calls else reason


def decode_usage(value: object, path: str = "usage") -> Usage:
    """OpenAI counts cached input inside prompt_tokens (WIRE-FORMATS 6.3)."""
    usage = expect_object(value, path)
    prompt = _count(usage, "prompt_tokens", path)
    prompt_details = _details(usage, "prompt_tokens_details", path)
    completion_details = _details(usage, "completion_tokens_details", path)
    cache_read = _count(prompt_details, "cached_tokens", f"{path}.prompt_tokens_details")
    cache_write = _count(prompt_details, "cache_write_tokens", f"{path}.prompt_tokens_details")
    return Usage(
        input_tokens=max(prompt - cache_read - cache_write, 0),
        output_tokens=_count(usage, "completion_tokens", path),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=_count(
            completion_details, "reasoning_tokens", f"{path}.completion_tokens_details"
        ),
    )


def _details(usage: JSONObject, field: str, path: str) -> JSONObject:
    value = usage.get(field)
    return {} if value is None else expect_object(value, f"{path}.{field}")


def _count(obj: JSONObject, field: str, path: str) -> int:
    value = obj.get(field)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        fail(f"{path}.{field}", "expected a non-negative integer")
    return value


def decode_chat_completion(body: bytes) -> Response:
    """The first choice of an upstream's `chat.completion` (the broker asks for one).

    Raises:
        UpstreamUnavailableError: the body is no chat completion, or an error.
    """
    completion = _json_object(body, UpstreamUnavailableError)
    message = error_message(completion)
    if message is not None:
        raise UpstreamUnavailableError(f"the provider answered with an error: {message}")
    try:
        return _completion(completion)
    except InvalidRequestError as exc:
        text = f"the provider's chat completion is malformed: {exc.message}"
        raise UpstreamUnavailableError(text) from exc


def _json_object(
    data: bytes, error: type[UpstreamUnavailableError | UpstreamStreamError]
) -> JSONObject:
    try:
        parsed: Any = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise error(f"the provider's answer is not JSON: {exc.msg}") from exc
    if not isinstance(parsed, dict):
        raise error("the provider's answer is not a JSON object")
    return parsed


def _completion(completion: JSONObject) -> Response:
    choices = expect_array(completion.get("choices"), "choices")
    if not choices:
        fail("choices", "must not be empty")
    choice = expect_object(choices[0], "choices.0")
    message = expect_object(choice.get("message"), "choices.0.message")
    path = "choices.0.message"
    blocks: list[ContentBlock] = list(decode_thinking(message, path))
    content = _text_field(message, "content", path)
    if content:
        blocks.append(TextBlock(content))
    refusal = _text_field(message, "refusal", path)
    if refusal:
        blocks.append(TextBlock(refusal))
    calls = message.get("tool_calls") or []
    items = expect_array(calls, f"{path}.tool_calls")
    blocks.extend(_tool_call(item, f"{path}.tool_calls.{i}") for i, item in enumerate(items))
    finish = expect_string(choice.get("finish_reason"), "choices.0.finish_reason")
    usage = completion.get("usage")
    return Response(
        id=expect_string(completion.get("id"), "id"),
        model=expect_string(completion.get("model"), "model"),
        content=tuple(blocks),
        stop_reason=stop_reason(finish, has_tool_calls=bool(items), refused=bool(refusal)),
        usage=Usage() if usage is None else decode_usage(usage),
    )


def _text_field(obj: JSONObject, field: str, path: str) -> str:
    """A string field; null or absent reads as ""."""
    value = obj.get(field)
    return "" if value is None else expect_string(value, f"{path}.{field}")


def _tool_call(item: object, path: str) -> ToolCallBlock:
    call = expect_object(item, path)
    function = expect_object(call.get("function"), f"{path}.function")
    return ToolCallBlock(
        id=expect_string(call.get("id"), f"{path}.id"),
        name=expect_string(function.get("name"), f"{path}.function.name"),
        arguments=_arguments(function.get("arguments"), f"{path}.function.arguments"),
    )


def _arguments(value: object, path: str) -> str:
    """JSON text as is; some compatible servers send the object itself."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return expect_string(value, path)


_BlockKind = Literal["text", "thinking", "tool", "redacted"]


class ChatStreamDecoder:
    """An upstream's `chat.completion.chunk` stream to canonical events, for one call.

    Emits MessageStart (BlockStart delta* BlockStop)* MessageDelta MessageStop: a block
    opens on the first non-empty reasoning, text or tool call after another kind, and
    a thinking block ends at its signature. Usage comes from the `choices: []` chunk
    (or any chunk carrying one) and is reported whole in MessageDelta; MessageStart
    holds zeros. `complete` turns true at `[DONE]` after a finish_reason.

    Canonical blocks open and close in order, so each OpenAI `tool_calls[].index` maps
    to one block opened when the index first appears. A fragment for a call whose block
    is already closed cannot be placed without buffering the whole answer; the decoder
    raises UpstreamStreamError instead. OpenAI and the compatible servers send each
    call's fragments before the next call starts (WIRE-FORMATS 2.4 rule 4).
    """

    __slots__ = (
        "_complete",
        "_finish",
        "_kind",
        "_next_index",
        "_open",
        "_refused",
        "_sealed",
        "_sse",
        "_started",
        "_tools",
        "_usage",
    )

    def __init__(self) -> None:
        self._sse = SseDecoder()
        self._started = False
        self._next_index = 0
        self._open: int | None = None  # the open block's index
        self._kind: _BlockKind | None = None
        self._sealed = False  # the open thinking block got its signature
        self._tools: dict[int | str, int] = {}  # OpenAI tool call index -> block index
        self._finish: str | None = None
        self._refused = False
        self._usage = Usage()
        self._complete = False

    @property
    def complete(self) -> bool:
        return self._complete

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """The events completed by `chunk`; nothing after `[DONE]`.

        Raises:
            UpstreamStreamError: an error chunk, invalid JSON, a malformed chunk, or
                `[DONE]` before any finish_reason.
        """
        events: list[StreamEvent] = []
        for event in self._sse.feed(chunk):
            if not self._complete:
                events.extend(self._data(event.data))
        return events

    def _data(self, data: bytes) -> list[StreamEvent]:
        if data == b"[DONE]":
            return self._done()
        if not data.strip():
            return []
        chunk = _json_object(data, UpstreamStreamError)
        message = error_message(chunk)
        if message is not None:
            raise UpstreamStreamError(f"the provider's stream failed: {message}")
        try:
            return self._chunk(chunk)
        except InvalidRequestError as exc:
            text = f"the provider's stream is malformed: {exc.message}"
            raise UpstreamStreamError(text) from exc

    def _chunk(self, chunk: JSONObject) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            chunk_id = expect_string(chunk.get("id"), "id")
            events.append(
                MessageStart(chunk_id, expect_string(chunk.get("model"), "model"), Usage())
            )
        usage = chunk.get("usage")
        if usage is not None:
            self._usage = decode_usage(usage)  # cumulative: replace
        choices = expect_array(chunk.get("choices") or [], "choices")
        for i, choice in enumerate(choices):
            events.extend(self._choice(expect_object(choice, f"choices.{i}"), f"choices.{i}"))
        return events

    def _choice(self, choice: JSONObject, path: str) -> list[StreamEvent]:
        if choice.get("index", 0) != 0:
            fail(f"{path}.index", "expected 0: the broker asks for one choice")
        value = choice.get("delta")
        delta = {} if value is None else expect_object(value, f"{path}.delta")
        path = f"{path}.delta"
        events = [
            *self._thinking(delta, path),
            *self._text(delta, path),
            *self._tool_calls(delta, path),
        ]
        finish = choice.get("finish_reason")
        if finish is not None:
            self._finish = expect_string(finish, f"{path}.finish_reason")
            events.extend(self._close())
        return events

    def _thinking(self, delta: JSONObject, path: str) -> list[StreamEvent]:
        """`reasoning_content`/`reasoning` text; `thinking_blocks` for signatures, for
        redacted blocks, and for text when neither reasoning field is there."""
        entries_value = delta.get("thinking_blocks")
        entries = [
            thinking_entry(item, f"{path}.thinking_blocks.{i}")
            for i, item in enumerate(expect_array(entries_value or [], f"{path}.thinking_blocks"))
        ]
        text = reasoning_text(delta, path)
        if text is None:
            text = "".join(e.text for e in entries if isinstance(e, ThinkingBlock))
        events: list[StreamEvent] = []
        if text:
            events.extend(self._into_thinking())
            events.append(ThinkingDelta(self._index(), text))
        for entry in entries:
            if isinstance(entry, RedactedThinkingBlock):
                events.extend(self._start(entry, "redacted"))
                events.extend(self._close())
            elif entry.signature:
                events.extend(self._into_thinking())
                events.append(SignatureDelta(self._index(), entry.signature))
                self._sealed = True
        return events

    def _into_thinking(self) -> list[StreamEvent]:
        if self._kind == "thinking" and not self._sealed:
            return []
        return self._start(ThinkingBlock(""), "thinking")

    def _text(self, delta: JSONObject, path: str) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for field in ("content", "refusal"):
            value = _text_field(delta, field, path)
            if not value:
                continue
            self._refused = self._refused or field == "refusal"
            if self._kind != "text":
                events.extend(self._start(TextBlock(""), "text"))
            events.append(TextDelta(self._index(), value))
        return events

    def _tool_calls(self, delta: JSONObject, path: str) -> list[StreamEvent]:
        calls = delta.get("tool_calls")
        if calls is None:
            return []
        events: list[StreamEvent] = []
        for i, item in enumerate(expect_array(calls, f"{path}.tool_calls")):
            events.extend(
                self._tool_call(
                    expect_object(item, f"{path}.tool_calls.{i}"), f"{path}.tool_calls.{i}"
                )
            )
        return events

    def _tool_call(self, call: JSONObject, path: str) -> list[StreamEvent]:
        value = call.get("function")
        function = {} if value is None else expect_object(value, f"{path}.function")
        key = self._tool_key(call, path)
        events: list[StreamEvent] = []
        if key not in self._tools:
            block = ToolCallBlock(
                id=expect_string(call.get("id"), f"{path}.id"),
                name=expect_string(function.get("name"), f"{path}.function.name"),
                arguments="",
            )
            events.extend(self._start(block, "tool"))
            self._tools[key] = self._index()
        elif self._tools[key] != self._open:
            message = (
                f"the provider's stream continued tool call {key} after the next block "
                "began; calls sent interleaved cannot be translated"
            )
            raise UpstreamStreamError(message)
        fragment = _text_field(function, "arguments", f"{path}.function")
        if fragment:
            events.append(ToolArgumentsDelta(self._index(), fragment))
        return events

    def _tool_key(self, call: JSONObject, path: str) -> int | str:
        """`index`; servers that omit it are read by `id`, else as the open call."""
        index = call.get("index")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                fail(f"{path}.index", "expected an integer")
            return index
        call_id = call.get("id")
        if call_id is not None:
            return expect_string(call_id, f"{path}.id")
        open_keys = [key for key, block in self._tools.items() if block == self._open]
        if not open_keys:
            fail(f"{path}.index", "field required")
        return open_keys[0]

    def _start(self, block: ContentBlock, kind: _BlockKind) -> list[StreamEvent]:
        events = self._close()
        index = self._next_index
        self._next_index += 1
        self._open, self._kind, self._sealed = index, kind, False
        events.append(BlockStart(index, block))
        return events

    def _index(self) -> int:
        if self._open is None:  # pragma: no cover - every caller opens a block first
            message = "no content block is open"
            raise UpstreamStreamError(message)
        return self._open

    def _close(self) -> list[StreamEvent]:
        if self._open is None:
            return []
        stop = BlockStop(self._open)
        self._open, self._kind = None, None
        return [stop]

    def _done(self) -> list[StreamEvent]:
        if self._finish is None:
            message = "the provider's stream ended with [DONE] before any finish_reason"
            raise UpstreamStreamError(message)
        events = self._close()
        reason = stop_reason(self._finish, has_tool_calls=bool(self._tools), refused=self._refused)
        self._complete = True
        return [*events, MessageDelta(reason, self._usage), MessageStop()]
