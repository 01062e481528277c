"""The request formats an agent speaks to a target, and how its answers are judged.

`CHAT` (OpenAI Chat Completions) is what every target gets; `MESSAGES` (Anthropic
Messages at /v1/messages) is what the "translated" target gets: the same system and
user text and max_tokens, sent to the broker for the same OpenAI-format model entry,
so the broker translates the request and the answer (whole or event by event).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

import anthropic_format
import payloads
from http1 import Response

Headers = tuple[tuple[str, str], ...]
ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True, slots=True)
class Dialect:
    """One format: its path, body and headers, and its answer checks.

    `problem` says what is wrong with an answer (None: right). `stream_events` counts a
    stream's events of the kind `counted` names, or raises ValueError if the stream is
    not complete.
    """

    name: str
    path: str
    build: Callable[[str, bool], bytes]  # (model, stream) -> request body
    fixed_headers: Headers
    key_header: str | None  # None: `authorization: Bearer <key>`
    problem_of: Callable[[Response, bool], str | None]
    stream_events: Callable[[Response], int]
    counted: str

    def body(self, model: str, *, stream: bool) -> bytes:
        return self.build(model, stream)

    def headers(self, token: str | None) -> Headers:
        """Every request header besides host, content-type and content-length."""
        if token is None:
            return self.fixed_headers
        if self.key_header is None:
            return (("authorization", f"Bearer {token}"), *self.fixed_headers)
        return ((self.key_header, token), *self.fixed_headers)

    def problem(self, response: Response, *, stream: bool) -> str | None:
        if response.status != HTTPStatus.OK:
            return f"status {response.status}"
        return self.problem_of(response, stream)


def _chat_problem(response: Response, stream: bool) -> str | None:
    if stream:
        if response.data_events != payloads.STREAM_EVENTS:
            return f"{response.data_events} data events, want {payloads.STREAM_EVENTS}"
        return None
    try:
        answer = json.loads(response.body)
    except ValueError:
        return "no chat.completion object"
    if not isinstance(answer, dict) or answer.get("object") != "chat.completion":
        return "no chat.completion object"
    return None


def _messages_problem(response: Response, stream: bool) -> str | None:
    try:
        if stream:
            anthropic_format.check_stream(response.body)
        else:
            anthropic_format.check_message(response.body)
    except anthropic_format.FormatError as error:
        return str(error)
    return None


def _data_events(response: Response) -> int:
    return response.data_events


CHAT = Dialect(
    name="openai chat",
    path="/v1/chat/completions",
    build=lambda model, stream: payloads.chat_request(model, stream=stream),
    fixed_headers=(),
    key_header=None,
    problem_of=_chat_problem,
    stream_events=_data_events,
    counted="data",
)

MESSAGES = Dialect(
    name="anthropic messages",
    path="/v1/messages",
    build=lambda model, stream: payloads.messages_request(model, stream=stream),
    fixed_headers=(("anthropic-version", ANTHROPIC_VERSION),),
    key_header="x-api-key",  # what the Anthropic SDK sends; the broker accepts Bearer too
    problem_of=_messages_problem,
    stream_events=lambda response: anthropic_format.check_stream(response.body),
    counted="content",
)
