"""Answers under the model name the agent asked for, when a pool served the call.

A pool is invisible to the agent: whichever member answered, the answer names the
model the agent asked for (the audit names the member). Whole answers get their
top-level `model` replaced byte-faithfully; streams are rewritten as they pass, without
holding back a complete event.
"""

from __future__ import annotations

import re

import orjson

from dome.wire.json_splice import replace_top_level_string


def renamed_answer(body: bytes, requested: str) -> bytes:
    """`body` (a JSON answer) with its top-level `model` set to `requested`.

    A body without a top-level string `model` (an error, an odd provider) is unchanged.
    """
    try:
        return replace_top_level_string(body, "model", requested)
    except (ValueError, orjson.JSONDecodeError):
        return body


class StreamModelRenamer:
    """Rewrites `"model": "<served>"` to the requested name in SSE bytes of any split.

    Both formats put the model in event JSON as a `"model"` member (every OpenAI chunk,
    Anthropic's message_start). Inside a JSON string the quotes would be escaped, so the
    pattern only matches real members. Only a chunk's tail that could begin a match is
    held back, never an event's terminating blank line.
    """

    __slots__ = ("_held", "_longest", "_pattern", "_replacement", "_served")

    def __init__(self, served: str, requested: str) -> None:
        self._served = orjson.dumps(served)
        self._pattern = re.compile(rb'"model"([ \t]*):([ \t]*)' + re.escape(self._served))
        self._replacement = orjson.dumps(requested)
        self._held = b""
        self._longest = len(_KEY) + _MAX_SPACES + 1 + len(self._served)

    def feed(self, chunk: bytes) -> bytes:
        data = self._pattern.sub(self._substitute, self._held + chunk)
        keep = self._partial_tail(data)
        self._held = data[len(data) - keep :]
        return data[: len(data) - keep]

    def flush(self) -> bytes:
        held, self._held = self._held, b""
        return held

    def _substitute(self, match: re.Match[bytes]) -> bytes:
        return b'"model"' + match.group(1) + b":" + match.group(2) + self._replacement

    def _partial_tail(self, data: bytes) -> int:
        """How many trailing bytes could be the start of a match (to hold back)."""
        low = max(0, len(data) - self._longest)
        quote = data.find(b'"', low)
        while quote != -1:
            if self._could_begin(data[quote:]):
                return len(data) - quote
            quote = data.find(b'"', quote + 1)
        return 0

    def _could_begin(self, tail: bytes) -> bool:
        if len(tail) <= len(_KEY):
            return _KEY.startswith(tail)
        if not tail.startswith(_KEY):
            return False
        rest = tail[len(_KEY) :].lstrip(b" \t")
        if not rest:
            return True
        if rest[:1] != b":":
            return False
        rest = rest[1:].lstrip(b" \t")
        return len(rest) < len(self._served) and self._served.startswith(rest)


_KEY = b'"model"'
_MAX_SPACES = 8  # whitespace around the colon a provider might emit, at the most
