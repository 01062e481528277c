"""One profile per inbound endpoint: how to read it, observe its answers, render errors.

The server picks a profile by path and never branches on the format name itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from dome.wire.anthropic import errors as anthropic_errors
from dome.wire.anthropic.facts import count_tokens_facts, messages_facts
from dome.wire.anthropic.observe import (
    MessageStreamObserver,
    usage_from_count_body,
    usage_from_message_body,
)
from dome.wire.facts import RequestFacts
from dome.wire.formats import Operation, WireFormat
from dome.wire.openai import errors as openai_errors
from dome.wire.openai.facts import chat_facts, embeddings_facts
from dome.wire.openai.observe import ChatStreamObserver, usage_from_chat_body
from dome.wire.usage import ReportedUsage


class StreamObserver(Protocol):
    complete: bool
    error: dict[str, Any] | None

    @property
    def usage(self) -> ReportedUsage | None: ...

    def feed(self, chunk: bytes) -> None: ...


class ErrorRenderer(Protocol):
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
class EndpointProfile:
    format: WireFormat
    operation: Operation
    read_facts: Callable[[dict[str, Any]], RequestFacts]
    error_body: ErrorRenderer
    error_type: Callable[[int], str]
    stream_error_event: Callable[[int, str | None, str], bytes]
    new_observer: Callable[[], StreamObserver]
    usage_from_body: Callable[[bytes], ReportedUsage | None]
    # Client request headers that carry request semantics and go upstream unchanged.
    forwarded_headers: frozenset[str]


OPENAI_CHAT = EndpointProfile(
    format="openai",
    operation="chat",
    read_facts=chat_facts,
    error_body=openai_errors.error_body,
    error_type=openai_errors.openai_error_type,
    stream_error_event=openai_errors.stream_error_event,
    new_observer=ChatStreamObserver,
    usage_from_body=usage_from_chat_body,
    forwarded_headers=frozenset(),
)

ANTHROPIC_MESSAGES = EndpointProfile(
    format="anthropic",
    operation="messages",
    read_facts=messages_facts,
    error_body=anthropic_errors.error_body,
    error_type=anthropic_errors.anthropic_error_type,
    stream_error_event=anthropic_errors.stream_error_event,
    new_observer=MessageStreamObserver,
    usage_from_body=usage_from_message_body,
    forwarded_headers=frozenset({"anthropic-version", "anthropic-beta"}),
)

# Whole answers only: their facts always say stream=False, so no observer runs. Errors,
# headers and usage reading are their format's.
OPENAI_EMBEDDINGS = replace(OPENAI_CHAT, operation="embeddings", read_facts=embeddings_facts)

ANTHROPIC_COUNT_TOKENS = replace(
    ANTHROPIC_MESSAGES,
    operation="count_tokens",
    read_facts=count_tokens_facts,
    usage_from_body=usage_from_count_body,
)
