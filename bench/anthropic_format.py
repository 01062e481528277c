"""Strict checks of Anthropic Messages answers, for the "translated" target.

No SDK: the functional check and the probe read raw bytes (http1.py), so these are
plain JSON checks of exactly what the bench upstream's answer must become once the
broker has translated it: a `message` with the answer's text, or an SSE stream of
named events from `message_start` to `message_stop` carrying the streamed text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import payloads

CONTENT_EVENT = "content_block_delta"
END_EVENT = "message_stop"
_EVENT_TYPES = frozenset(
    {
        "message_start",
        "ping",
        "content_block_start",
        CONTENT_EVENT,
        "content_block_stop",
        "message_delta",
        END_EVENT,
    }
)


class FormatError(ValueError):
    """The answer is not the Anthropic message it should be; the text says how."""


@dataclass(frozen=True, slots=True)
class Event:
    """One SSE event: its `event:` name and its `data:` JSON object."""

    name: str
    data: dict[str, object]


def _object(value: object, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        msg = f"{what} is not a JSON object"
        raise FormatError(msg)
    return value


def _expect(data: dict[str, object], key: str, wanted: object, what: str) -> None:
    if data.get(key) != wanted:
        msg = f"{what}: {key} is {data.get(key)!r}, want {wanted!r}"
        raise FormatError(msg)


def _parse_block(block: bytes) -> Event:
    name: str | None = None
    data: list[bytes] = []
    for raw in block.split(b"\n"):
        line = raw.rstrip(b"\r")
        if line.startswith(b"event:"):
            name = line[len(b"event:") :].strip().decode()
        elif line.startswith(b"data:"):
            data.append(line[len(b"data:") :].strip())
        elif line and not line.startswith(b":"):  # ":" starts an SSE comment
            msg = f"unexpected SSE line {line[:80]!r}"
            raise FormatError(msg)
    if name is None or not data:
        msg = f"an SSE event without both event: and data: {block[:120]!r}"
        raise FormatError(msg)
    try:
        payload = _object(json.loads(b"\n".join(data)), f"the data of {name}")
    except json.JSONDecodeError as exc:
        msg = f"the data of {name} is not JSON: {exc}"
        raise FormatError(msg) from exc
    _expect(payload, "type", name, f"event {name}")
    return Event(name, payload)


def parse_events(body: bytes) -> list[Event]:
    """Every SSE event of a body; raises FormatError on anything malformed."""
    blocks = body.replace(b"\r\n", b"\n").split(b"\n\n")
    return [_parse_block(block) for block in blocks if block.strip(b"\n")]


def _usage(data: dict[str, object], what: str) -> dict[str, object]:
    usage = _object(data.get("usage"), f"{what} usage")
    for key in ("input_tokens", "output_tokens"):
        if not isinstance(usage.get(key), int):
            msg = f"{what} usage: {key} is not an integer"
            raise FormatError(msg)
    return usage


def check_message(body: bytes) -> None:
    """A whole answer must be the bench answer as an Anthropic `message`."""
    try:
        message = _object(json.loads(body), "the answer")
    except json.JSONDecodeError as exc:
        msg = f"the answer is not JSON: {exc}"
        raise FormatError(msg) from exc
    _expect(message, "type", "message", "message")
    _expect(message, "role", "assistant", "message")
    _expect(message, "content", [{"type": "text", "text": payloads.ANSWER_TEXT}], "message")
    _expect(message, "stop_reason", "end_turn", "message")
    if not str(message.get("id", "")).startswith("msg_"):
        msg = f"message: id {message.get('id')!r} does not start with msg_"
        raise FormatError(msg)
    usage = _usage(message, "message")
    _expect(usage, "input_tokens", payloads.PROMPT_TOKENS, "message usage")
    _expect(usage, "output_tokens", payloads.COMPLETION_TOKENS, "message usage")


class _StreamState:
    """Walks the events in order and checks the Messages streaming grammar."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.open_block: int | None = None
        self.blocks = 0
        self.stop_reason: object = None
        self.output_tokens: object = None

    def feed(self, event: Event) -> None:
        data = event.data
        if event.name == "content_block_start":
            if self.open_block is not None:
                msg = "content_block_start while a block is open"
                raise FormatError(msg)
            _expect(data, "index", self.blocks, "content_block_start")
            _expect(
                _object(data.get("content_block"), "content_block"),
                "type",
                "text",
                "content_block_start",
            )
            self.open_block = self.blocks
        elif event.name in {CONTENT_EVENT, "content_block_stop"}:
            if self.open_block is None:
                msg = f"{event.name} outside a content block"
                raise FormatError(msg)
            _expect(data, "index", self.open_block, event.name)
            if event.name == CONTENT_EVENT:
                delta = _object(data.get("delta"), "content_block_delta delta")
                _expect(delta, "type", "text_delta", "content_block_delta")
                self.text.append(str(delta.get("text")))
            else:
                self.open_block = None
                self.blocks += 1
        elif event.name == "message_delta":
            delta = _object(data.get("delta"), "message_delta delta")
            self.stop_reason = delta.get("stop_reason")
            self.output_tokens = _usage(data, "message_delta").get("output_tokens")


def check_stream(body: bytes) -> int:
    """A streamed answer must be the bench stream as Anthropic events, from
    `message_start` to `message_stop`; returns the number of content events."""
    events = parse_events(body)
    names = [event.name for event in events]
    unknown = sorted(set(names) - _EVENT_TYPES)
    if unknown:
        msg = f"unexpected events {unknown}"
        raise FormatError(msg)
    if not names or names[0] != "message_start":
        msg = f"the stream does not begin with message_start: {names[:3]}"
        raise FormatError(msg)
    if names[-1] != END_EVENT or names.count(END_EVENT) != 1:
        msg = f"the stream does not end with one {END_EVENT}: {names[-3:]}"
        raise FormatError(msg)
    start = _object(events[0].data.get("message"), "message_start message")
    _expect(start, "type", "message", "message_start")
    _expect(start, "role", "assistant", "message_start")
    state = _StreamState()
    for event in events[1:-1]:
        if event.name == "message_start":
            msg = "a second message_start"
            raise FormatError(msg)
        state.feed(event)
    if state.open_block is not None:
        msg = "a content block is never stopped"
        raise FormatError(msg)
    if "".join(state.text) != payloads.STREAM_TEXT:
        msg = f"streamed text {''.join(state.text)!r}, want {payloads.STREAM_TEXT!r}"
        raise FormatError(msg)
    if state.stop_reason != "end_turn" or state.output_tokens != payloads.COMPLETION_TOKENS:
        msg = (
            f"message_delta: stop_reason {state.stop_reason!r}, output_tokens "
            f"{state.output_tokens!r}; want 'end_turn', {payloads.COMPLETION_TOKENS}"
        )
        raise FormatError(msg)
    return names.count(CONTENT_EVENT)
