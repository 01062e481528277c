"""Facts of an Anthropic messages request (WIRE-FORMATS 3.2)."""

from __future__ import annotations

from typing import Any

from dome.errors import InvalidRequestError
from dome.wire.facts import (
    RequestFacts,
    optional_bool,
    optional_int,
    required_list,
    required_string,
)


def messages_facts(body: dict[str, Any]) -> RequestFacts:
    model = required_string(body, "model")
    messages = required_list(body, "messages")
    if not messages:
        raise InvalidRequestError("messages: must not be empty", param="messages")
    max_tokens = optional_int(body, "max_tokens")
    if max_tokens is None:
        raise InvalidRequestError("max_tokens: field required", param="max_tokens")
    return RequestFacts(
        format="anthropic",
        operation="messages",
        model=model,
        stream=optional_bool(body, "stream"),
        max_output_tokens=max_tokens,
        include_usage=False,
    )


def count_tokens_facts(body: dict[str, Any]) -> RequestFacts:
    """`POST /v1/messages/count_tokens` (WIRE-FORMATS 3.6): no `max_tokens` there."""
    model = required_string(body, "model")
    messages = required_list(body, "messages")
    if not messages:
        raise InvalidRequestError("messages: must not be empty", param="messages")
    return RequestFacts(
        format="anthropic",
        operation="count_tokens",
        model=model,
        stream=False,
        max_output_tokens=None,
        include_usage=False,
    )
