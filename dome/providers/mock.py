"""The `mock` provider: a simulated model that answers locally, with no network.

Users try the broker and test their agents offline with it. It answers in the request's
own wire format, streamed or whole; the configured model id switches on failure modes
(`error-429`, `error-500`, `error-529`, `slow`, `stream-cut`), the same names the fake
upstreams in the tests use (STYLE section 9).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import math
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

import orjson

from dome.errors import InvalidRequestError, UnsupportedError
from dome.providers.base import (
    ProviderConfig,
    ProviderContext,
    ProviderRequest,
    ProviderResponse,
)
from dome.wire import anthropic as anthropic_wire
from dome.wire import openai as openai_wire
from dome.wire.canonical import (
    BlockStart,
    BlockStop,
    ContentBlock,
    ConversationDigest,
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
    ToolSummary,
    Usage,
)
from dome.wire.estimate import CHARS_PER_TOKEN, estimate_input_tokens, estimate_tokens
from dome.wire.formats import Operation, WireFormat

Sleep = Callable[[float], Awaitable[None]]
Headers = tuple[tuple[str, str], ...]

_ANSWER_PREFIX = "Mock answer to: "
_THINKING_PREFIX = "Mock reasoning about: "
_QUOTED_CHARS = 200  # of the last user text, echoed in the answer
_ARGUMENT_FRAGMENT_CHARS = 16
_CUT_AFTER_EVENTS = 4  # stream-cut: SSE events sent before the stream just stops
_SLOW_CHUNK_DELAY = 0.05
_SLOW_ANSWER_DELAY = 0.2

# Model-id markers that make the mock fail with that status.
_ERROR_MARKERS = MappingProxyType({"error-429": 429, "error-500": 500, "error-529": 529})
_ERROR_MESSAGES = MappingProxyType(
    {
        429: "Mock rate limit: the model id asks for error-429.",
        500: "Mock internal error: the model id asks for error-500.",
        529: "Mock overload: the model id asks for error-529.",
    }
)
# A short retry hint, as rate-limited providers send (WIRE-FORMATS 2.1, 3.5).
_RETRY_AFTER = MappingProxyType({429: ("retry-after", "1")})

# A placeholder value per JSON Schema type, for the arguments of a mock tool call.
_PLACEHOLDERS: Mapping[str | None, object] = MappingProxyType(
    {
        "string": "mock",
        "integer": 1,
        "number": 1,
        "boolean": True,
        "object": {},
        "array": [],
    }
)

_JSON_HEADERS: Headers = (("content-type", "application/json"),)
_SSE_HEADERS: Headers = (
    ("content-type", "text/event-stream"),
    ("cache-control", "no-cache"),
)


@dataclass(frozen=True, slots=True)
class MockBehaviour:
    """How the mock misbehaves, read once from the configured model id."""

    error_status: int | None = None
    chunk_delay: float = 0.0
    answer_delay: float = 0.0
    cut_stream: bool = False


def behaviour_for(model: str) -> MockBehaviour:
    """The behaviour the model id asks for: its names are substrings of the id."""
    statuses = [status for marker, status in _ERROR_MARKERS.items() if marker in model]
    slow = "slow" in model
    return MockBehaviour(
        error_status=statuses[0] if statuses else None,
        chunk_delay=_SLOW_CHUNK_DELAY if slow else 0.0,
        answer_delay=_SLOW_ANSWER_DELAY if slow else 0.0,
        cut_stream="stream-cut" in model,
    )


def plan_answer(
    digest: ConversationDigest, *, model: str, message_id: str, tool_id: str
) -> Response:
    """The mock's whole answer.

    It calls the first tool unless the conversation just delivered a tool result;
    otherwise it echoes the tool result or the last user text, naming any images.
    Asked to reason, it thinks aloud first, in a signed thinking block.
    """
    input_tokens = estimate_input_tokens(digest)
    thinking = _thinking(digest)
    tool = digest.first_tool
    if tool is not None and not digest.ends_with_tool_result:
        call = ToolCallBlock(id=tool_id, name=tool.name, arguments=tool_arguments(tool))
        output_chars = len(call.name) + len(call.arguments) + sum(len(t.text) for t in thinking)
        usage = Usage(input_tokens, estimate_tokens(output_chars))
        return Response(message_id, model, (*thinking, call), "tool_use", usage)
    quoted = digest.last_tool_result if digest.ends_with_tool_result else None
    echoed = quoted if quoted is not None else digest.last_user_text
    echoed += "".join(f" [image {image}]" for image in digest.images)
    text, stop_reason = answer_text(echoed, digest.max_tokens)
    reasoning_tokens = estimate_tokens(len(thinking[0].text)) if thinking else 0
    usage = Usage(
        input_tokens,
        estimate_tokens(len(text)) + reasoning_tokens,
        reasoning_tokens=reasoning_tokens,
    )
    return Response(message_id, model, (*thinking, TextBlock(text)), stop_reason, usage)


def _thinking(digest: ConversationDigest) -> tuple[ThinkingBlock, ...]:
    if not digest.reasoning:
        return ()
    text = _THINKING_PREFIX + digest.last_user_text[:_QUOTED_CHARS]
    # Deterministic, so a test can tell the block came back intact.
    signature = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return (ThinkingBlock(text, signature),)


def answer_text(user_text: str, max_tokens: int | None) -> tuple[str, StopReason]:
    """The echo answer, cut at a word boundary to fit `max_tokens` (estimated)."""
    text = (_ANSWER_PREFIX + user_text[:_QUOTED_CHARS]).rstrip()
    if max_tokens is None or math.ceil(len(text) / CHARS_PER_TOKEN) <= max_tokens:
        return text, "end_turn"
    budget = max_tokens * CHARS_PER_TOKEN
    kept = ""
    for word in _words(text):
        if len(kept) + len(word.rstrip()) > budget:
            break
        kept += word
    return (kept.rstrip() or text[:budget]), "max_tokens"


def tool_arguments(tool: ToolSummary) -> str:
    """JSON arguments with a placeholder for each required property."""
    arguments = {p.name: _PLACEHOLDERS.get(p.json_type) for p in tool.required}
    return orjson.dumps(arguments).decode()


def _words(text: str) -> list[str]:
    """Each word with the whitespace after it; they concatenate back to `text`."""
    return [piece for piece in re.findall(r"\S*\s*", text) if piece]


def stream_events(response: Response) -> tuple[StreamEvent, ...]:
    """A complete response as the stream of events a model would have sent."""
    start_usage = Usage(input_tokens=response.usage.input_tokens)
    events: list[StreamEvent] = [MessageStart(response.id, response.model, start_usage)]
    for index, block in enumerate(response.content):
        events.extend(_block_events(index, block))
    events.append(MessageDelta(response.stop_reason, response.usage))
    events.append(MessageStop())
    return tuple(events)


def _block_events(index: int, block: ContentBlock) -> list[StreamEvent]:
    deltas: list[StreamEvent]
    opened: ContentBlock
    match block:
        case TextBlock(text=text):
            deltas = [TextDelta(index, word) for word in _words(text)]
            opened = TextBlock("")
        case ThinkingBlock(text=text, signature=signature):
            deltas = [ThinkingDelta(index, word) for word in _words(text)]
            deltas.append(SignatureDelta(index, signature))
            opened = ThinkingBlock("")
        case ToolCallBlock(id=call_id, name=name, arguments=arguments):
            size = _ARGUMENT_FRAGMENT_CHARS
            pieces = [arguments[i : i + size] for i in range(0, len(arguments), size)]
            deltas = [ToolArgumentsDelta(index, piece) for piece in pieces]
            opened = ToolCallBlock(call_id, name, "")
        case RedactedThinkingBlock():
            deltas, opened = [], block
    return [BlockStart(index, opened), *deltas, BlockStop(index)]


class FrameEncoder(Protocol):
    def frames(self, event: StreamEvent) -> tuple[bytes, ...]: ...


class ErrorBody(Protocol):
    def __call__(
        self,
        status: int,
        error_type: str | None,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
    ) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """What the mock needs to speak one wire format."""

    read: Callable[[bytes], ConversationDigest]
    render: Callable[[Response, int], bytes]  # (response, created) -> body
    stream_encoder: Callable[[Response, int, ConversationDigest], FrameEncoder]
    error_body: ErrorBody
    message_id_prefix: str
    tool_id_prefix: str
    statuses: Mapping[int, int]  # mock failure status -> this format's status
    codes: Mapping[int, str]  # status -> error code, where the format has one


def _openai_render(response: Response, created: int) -> bytes:
    return orjson.dumps(openai_wire.encode_chat_completion(response, created=created))


def _openai_stream(response: Response, created: int, digest: ConversationDigest) -> FrameEncoder:
    return openai_wire.ChatStreamEncoder(
        response.id, response.model, created, include_usage=digest.include_usage
    )


def _anthropic_render(response: Response, _created: int) -> bytes:
    return orjson.dumps(anthropic_wire.encode_message(response))


def _anthropic_stream(
    _response: Response, _created: int, _digest: ConversationDigest
) -> FrameEncoder:
    return anthropic_wire.MessageStreamEncoder()


DIALECTS: Mapping[tuple[WireFormat, Operation], Dialect] = MappingProxyType(
    {
        ("openai", "chat"): Dialect(
            read=openai_wire.digest_chat_request,
            render=_openai_render,
            stream_encoder=_openai_stream,
            error_body=openai_wire.error_body,
            message_id_prefix="chatcmpl-mock",
            tool_id_prefix="call_mock",
            # OpenAI has no 529: an overloaded upstream is a 503 (WIRE-FORMATS 6.5).
            statuses=MappingProxyType({529: 503}),
            codes=MappingProxyType({429: "rate_limit_exceeded"}),
        ),
        ("anthropic", "messages"): Dialect(
            read=anthropic_wire.digest_messages_request,
            render=_anthropic_render,
            stream_encoder=_anthropic_stream,
            error_body=anthropic_wire.error_body,
            message_id_prefix="msg_mock",
            tool_id_prefix="toolu_mock",
            statuses=MappingProxyType({}),
            codes=MappingProxyType({}),
        ),
    }
)


@dataclass(slots=True)
class MockStream:
    """A streamed mock answer: prepared SSE events, played one per chunk."""

    status: int
    headers: Headers
    _frames: tuple[bytes, ...]
    _delay: float
    _sleep: Sleep
    _closed: bool = False

    async def chunks(self) -> AsyncIterator[bytes]:
        for position, frame in enumerate(self._frames):
            if position:
                # Always yield to the loop, so every event leaves as its own chunk.
                await self._sleep(self._delay)
            if self._closed:
                return
            yield frame

    async def read(self) -> bytes:
        return b"".join(self._frames)

    async def aclose(self) -> None:
        self._closed = True


class MockProvider:
    """A `Provider` for Chat Completions and Messages calls, answered locally."""

    __slots__ = ("_behaviour", "_clock", "_sleep")

    def __init__(
        self,
        model: str,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._behaviour = behaviour_for(model)
        self._sleep = sleep
        self._clock = clock

    def accepts(self, fmt: WireFormat, operation: Operation) -> bool:
        return (fmt, operation) in DIALECTS

    async def send(self, request: ProviderRequest) -> ProviderResponse:
        dialect = _dialect(request)
        outcome = self._answer(dialect, request)
        if isinstance(outcome, ProviderResponse):
            return outcome
        _, response = outcome
        if self._behaviour.answer_delay:
            await self._sleep(self._behaviour.answer_delay)
        body = dialect.render(response, int(self._clock()))
        return ProviderResponse(200, _JSON_HEADERS, body)

    async def stream(self, request: ProviderRequest) -> MockStream:
        dialect = _dialect(request)
        outcome = self._answer(dialect, request)
        if isinstance(outcome, ProviderResponse):
            body = (outcome.body,)
            return MockStream(outcome.status, outcome.headers, body, 0.0, self._sleep)
        digest, response = outcome
        encoder = dialect.stream_encoder(response, int(self._clock()), digest)
        events = stream_events(response)
        frames = tuple(frame for event in events for frame in encoder.frames(event))
        if self._behaviour.cut_stream:
            frames = _cut(frames)
        delay = self._behaviour.chunk_delay
        return MockStream(200, _SSE_HEADERS, frames, delay, self._sleep)

    def _answer(
        self, dialect: Dialect, request: ProviderRequest
    ) -> tuple[ConversationDigest, Response] | ProviderResponse:
        """The planned answer, or the error answer the mock gives instead."""
        status = self._behaviour.error_status
        if status is not None:
            return _configured_failure(dialect, status)
        try:
            digest = dialect.read(request.body)
        except InvalidRequestError as exc:
            body = dialect.error_body(400, None, exc.message, param=exc.param)
            return ProviderResponse(400, _JSON_HEADERS, body)
        suffix = uuid.uuid4().hex
        response = plan_answer(
            digest,
            model=request.model,
            message_id=dialect.message_id_prefix + suffix,
            tool_id=dialect.tool_id_prefix + suffix[:24],
        )
        return digest, response


def _configured_failure(dialect: Dialect, status: int) -> ProviderResponse:
    wire_status = dialect.statuses.get(status, status)
    message = _ERROR_MESSAGES[status]
    body = dialect.error_body(wire_status, None, message, code=dialect.codes.get(status))
    retry_after = _RETRY_AFTER.get(status)
    headers = _JSON_HEADERS if retry_after is None else (*_JSON_HEADERS, retry_after)
    return ProviderResponse(wire_status, headers, body)


def _cut(frames: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """The first few events, never reaching the finish and terminal events."""
    return frames[: max(1, min(_CUT_AFTER_EVENTS, len(frames) - 3))]


def _dialect(request: ProviderRequest) -> Dialect:
    dialect = DIALECTS.get((request.format, request.operation))
    if dialect is None:
        message = f"the mock provider does not serve {request.format} {request.operation}"
        raise UnsupportedError(message)
    return dialect


def create_mock_provider(config: ProviderConfig, context: ProviderContext) -> MockProvider:
    """The registry's factory: behaviour comes from `config.model`.

    `context` (the shared HTTP session) goes unused: the mock never leaves the process.
    """
    del context
    return MockProvider(config.model)
