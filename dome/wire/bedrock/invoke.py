"""InvokeModel / InvokeModelWithResponseStream for Claude on Bedrock (WIRE-FORMATS 4.5).

Pure. The body is an Anthropic Messages body with `model` and `stream` removed (the path
says both) and `anthropic_version` added; beta flags travel in the body. A streamed
answer is event-stream frames whose `chunk` payload `{"bytes": "<base64>"}` holds one
Anthropic stream event: `InvokeStreamTranslator` turns them back into the Anthropic
SSE an Anthropic client expects (the way the anthropic SDK's Bedrock client does), and
`InvokeStreamDecoder` feeds that to the Anthropic decoder for canonical events.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence

import orjson

from dome.errors import UpstreamStreamError
from dome.wire import anthropic as anthropic_wire
from dome.wire.bedrock.decode import stream_exception
from dome.wire.bedrock.eventstream import EventMessage, EventStreamDecoder
from dome.wire.canonical import StreamEvent

ANTHROPIC_VERSION = "bedrock-2023-05-31"
"""The `anthropic_version` Bedrock requires in Claude bodies."""


def to_invoke_body(
    messages_body: Mapping[str, object], *, betas: Sequence[str] = ()
) -> dict[str, object]:
    """An Anthropic Messages body as Bedrock's InvokeModel takes it (WIRE-FORMATS 4.5).

    `betas` are the `anthropic-beta` header's flags, which Bedrock reads from the body.
    """
    body = {key: value for key, value in messages_body.items() if key not in ("model", "stream")}
    body["anthropic_version"] = ANTHROPIC_VERSION
    if betas:
        body["anthropic_beta"] = list(betas)
    return body


class InvokeStreamTranslator:
    """InvokeModelWithResponseStream bytes in (any split), Anthropic SSE frames out.

    Each frame is `event: <type>` plus `data: <the event JSON>` (compacted, fields kept).
    """

    __slots__ = ("_frames",)

    def __init__(self) -> None:
        self._frames = EventStreamDecoder()

    def feed(self, chunk: bytes) -> bytes:
        """The SSE for the messages `chunk` completes (b"" while a frame is partial).

        Raises:
            ConverseStreamExceptionError: the stream sent an exception message
                (`modelStreamErrorException`, `throttlingException`...).
            UpstreamStreamError: a broken frame or a chunk that is not an event.
        """
        return b"".join(_sse(message) for message in self._frames.feed(chunk))


class InvokeStreamDecoder:
    """InvokeModelWithResponseStream bytes in, canonical events out; `complete` after
    `message_stop`."""

    __slots__ = ("_anthropic", "_translator")

    def __init__(self) -> None:
        self._translator = InvokeStreamTranslator()
        self._anthropic = anthropic_wire.MessageStreamDecoder()

    @property
    def complete(self) -> bool:
        return self._anthropic.complete

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        return self._anthropic.feed(self._translator.feed(chunk))


def _sse(message: EventMessage) -> bytes:
    if message.message_type == "exception":
        raise stream_exception(message.exception_type, message.payload)
    if message.message_type != "event" or message.event_type != "chunk":
        kind = message.event_type or message.message_type or "unknown"
        raise UpstreamStreamError(f"the provider's event stream sent {kind}, not a chunk")
    event = _chunk_event(message.payload)
    event_type = event.get("type") if isinstance(event, dict) else None
    if not isinstance(event_type, str):
        raise UpstreamStreamError("the provider's stream chunk holds no event type")
    data = orjson.dumps(event)
    return b"event: " + event_type.encode() + b"\ndata: " + data + b"\n\n"


def _chunk_event(payload: bytes) -> object:
    """The Anthropic event inside a `chunk` payload `{"bytes": "<base64 JSON>"}`."""
    try:
        wrapper = orjson.loads(payload)
        encoded = wrapper.get("bytes") if isinstance(wrapper, dict) else None
        if not isinstance(encoded, str):
            raise UpstreamStreamError("the provider's stream chunk holds no bytes")
        return orjson.loads(base64.b64decode(encoded, validate=True))
    except (orjson.JSONDecodeError, binascii.Error) as exc:
        raise UpstreamStreamError("the provider's stream chunk is not base64 JSON") from exc
