"""AWS event-stream framing (`application/vnd.amazon.eventstream`): bytes in, messages out.

A thin sans-I/O adapter over botocore's own parser (`EventStreamBuffer`), which checks
both CRCs and the size limits (WIRE-FORMATS 4.4); this module parses no frame itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from botocore.eventstream import (  # type: ignore[import-untyped]
    EventStreamBuffer,
    ParserError,
)

from dome.errors import UpstreamStreamError

HeaderValue = str | bytes | int | bool
"""What a frame header may hold; Bedrock sends strings only."""


@dataclass(frozen=True, slots=True)
class EventMessage:
    """One decoded frame: its headers (`:message-type`, `:event-type`...) and payload."""

    headers: Mapping[str, HeaderValue]
    payload: bytes

    @property
    def message_type(self) -> str:
        """`event`, `exception` (a modelled error) or `error` (a transport error)."""
        return self._text(":message-type")

    @property
    def event_type(self) -> str:
        """The `:event-type` of an event (`messageStart`, `chunk`...), else ""."""
        return self._text(":event-type")

    @property
    def exception_type(self) -> str:
        """The `:exception-type` of an exception (`throttlingException`...), else ""."""
        return self._text(":exception-type")

    def _text(self, name: str) -> str:
        value = self.headers.get(name)
        return value if isinstance(value, str) else ""


class EventStreamDecoder:
    """Frames in any split in, whole `EventMessage`s out, in order."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = EventStreamBuffer()

    def feed(self, chunk: bytes) -> list[EventMessage]:
        """The messages `chunk` completes (none while a frame is still partial).

        Raises:
            UpstreamStreamError: a frame fails botocore's checks (CRC, lengths, headers).
        """
        self._buffer.add_data(chunk)
        try:
            return [
                EventMessage(MappingProxyType(dict(message.headers)), bytes(message.payload))
                for message in self._buffer
            ]
        except ParserError as exc:
            message = f"the provider's event stream is malformed: {type(exc).__name__}"
            raise UpstreamStreamError(message) from exc
