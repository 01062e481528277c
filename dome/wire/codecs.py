"""One chat codec per wire format: everything translation needs from that format.

A codec decodes its format's requests, answers, streams and errors into the canonical
form and encodes them back. Translating format A to format B is A's decoder feeding
B's encoder, for any A and B (hub and spoke): the server picks two codecs and never
branches on a format's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Protocol

import orjson

from dome.errors import UpstreamStreamError
from dome.wire import anthropic as anthropic_wire
from dome.wire import openai as openai_wire
from dome.wire.canonical import (
    Failure,
    MessageStart,
    Request,
    Response,
    StreamEvent,
)
from dome.wire.formats import Operation, WireFormat


class StreamDecoder(Protocol):
    """Provider stream bytes in (any split), canonical events out."""

    @property
    def complete(self) -> bool: ...

    def feed(self, chunk: bytes) -> list[StreamEvent]: ...


class StreamEncoder(Protocol):
    """Canonical events in, complete SSE frames in the agent's format out."""

    def frames(self, event: StreamEvent) -> tuple[bytes, ...]: ...


@dataclass(frozen=True, slots=True)
class ChatCodec:
    format: WireFormat
    operation: Operation  # the format's chat operation ("chat", "messages")
    id_prefix: str  # what ids of this format's answers start with
    decode_request: Callable[[dict[str, Any]], Request]
    # (request, provider model id) -> body for a provider of this format
    encode_request: Callable[[Request, str], dict[str, object]]
    decode_response: Callable[[bytes], Response]
    encode_response: Callable[[Response, int], bytes]  # (response, created) -> body
    new_stream_decoder: Callable[[], StreamDecoder]
    new_stream_encoder: Callable[[Request, int], StreamEncoder]  # (request, created)
    read_failure: Callable[[int, bytes], Failure]
    render_failure: Callable[[Failure], tuple[int, bytes]]


def answer_id(codec: ChatCodec, upstream_id: str) -> str:
    """The upstream's answer id, prefixed as clients of `codec`'s format expect."""
    return upstream_id if upstream_id.startswith(codec.id_prefix) else codec.id_prefix + upstream_id


class _LazyChatStreamEncoder:
    """An OpenAI chunk encoder, built at MessageStart: chunks repeat the id and model."""

    __slots__ = ("_created", "_encoder", "_include_usage")

    def __init__(self, include_usage: bool, created: int) -> None:
        self._include_usage = include_usage
        self._created = created
        self._encoder: openai_wire.ChatStreamEncoder | None = None

    def frames(self, event: StreamEvent) -> tuple[bytes, ...]:
        if isinstance(event, MessageStart):
            self._encoder = openai_wire.ChatStreamEncoder(
                answer_id(OPENAI_CHAT_CODEC, event.id),
                event.model,
                self._created,
                include_usage=self._include_usage,
            )
        if self._encoder is None:
            message = "the provider's stream did not start with its first event"
            raise UpstreamStreamError(message)
        return self._encoder.frames(event)


class _AnthropicStreamEncoder:
    """Anthropic SSE frames, with message ids in Anthropic's `msg_` form."""

    __slots__ = ("_encoder",)

    def __init__(self) -> None:
        self._encoder = anthropic_wire.MessageStreamEncoder()

    def frames(self, event: StreamEvent) -> tuple[bytes, ...]:
        if isinstance(event, MessageStart):
            event = MessageStart(
                answer_id(ANTHROPIC_MESSAGES_CODEC, event.id), event.model, event.usage
            )
        return self._encoder.frames(event)


def _openai_response(response: Response, created: int) -> bytes:
    response = _with_id(response, OPENAI_CHAT_CODEC)
    return orjson.dumps(openai_wire.encode_chat_completion(response, created=created))


def _anthropic_response(response: Response, _created: int) -> bytes:
    response = _with_id(response, ANTHROPIC_MESSAGES_CODEC)
    return orjson.dumps(anthropic_wire.encode_message(response))


def _with_id(response: Response, codec: ChatCodec) -> Response:
    return replace(response, id=answer_id(codec, response.id))


def _openai_request(request: Request, model: str) -> dict[str, object]:
    return openai_wire.encode_chat_request(request, model)


def _anthropic_request(request: Request, model: str) -> dict[str, object]:
    default = anthropic_wire.default_max_tokens(model)
    return anthropic_wire.encode_messages_request(request, model, default_max_tokens=default)


OPENAI_CHAT_CODEC: ChatCodec = ChatCodec(
    format="openai",
    operation="chat",
    id_prefix="chatcmpl-",
    decode_request=openai_wire.decode_chat_request,
    encode_request=_openai_request,
    decode_response=openai_wire.decode_chat_completion,
    encode_response=_openai_response,
    new_stream_decoder=openai_wire.ChatStreamDecoder,
    new_stream_encoder=lambda request, created: _LazyChatStreamEncoder(
        request.include_usage, created
    ),
    read_failure=openai_wire.read_failure,
    render_failure=openai_wire.render_failure,
)

ANTHROPIC_MESSAGES_CODEC: ChatCodec = ChatCodec(
    format="anthropic",
    operation="messages",
    id_prefix="msg_",
    decode_request=anthropic_wire.decode_messages_request,
    encode_request=_anthropic_request,
    decode_response=anthropic_wire.decode_message,
    encode_response=_anthropic_response,
    new_stream_decoder=anthropic_wire.MessageStreamDecoder,
    new_stream_encoder=lambda _request, _created: _AnthropicStreamEncoder(),
    read_failure=anthropic_wire.read_failure,
    render_failure=anthropic_wire.render_failure,
)

CHAT_CODECS: Mapping[WireFormat, ChatCodec] = MappingProxyType(
    {"openai": OPENAI_CHAT_CODEC, "anthropic": ANTHROPIC_MESSAGES_CODEC}
)
"""Chat codecs by format, in the order a provider's formats are tried."""
