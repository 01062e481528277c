"""Facts of an OpenAI chat completions request (WIRE-FORMATS 2.2)."""

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


def chat_facts(body: dict[str, Any]) -> RequestFacts:
    model = required_string(body, "model")
    messages = required_list(body, "messages")
    if not messages:
        raise InvalidRequestError("messages: must not be empty", param="messages")
    stream = optional_bool(body, "stream")
    max_tokens = optional_int(body, "max_completion_tokens")
    if max_tokens is None:
        max_tokens = optional_int(body, "max_tokens")
    options = body.get("stream_options")
    include_usage = False
    if isinstance(options, dict):
        include_usage = optional_bool(options, "include_usage")
    elif options is not None:
        raise InvalidRequestError("stream_options: expected an object", param="stream_options")
    return RequestFacts(
        format="openai",
        operation="chat",
        model=model,
        stream=stream,
        max_output_tokens=max_tokens,
        include_usage=include_usage,
    )


def embeddings_facts(body: dict[str, Any]) -> RequestFacts:
    """`POST /v1/embeddings` (WIRE-FORMATS 2.7): `model` and `input` are required."""
    model = required_string(body, "model")
    value = body.get("input")
    if value is None:
        raise InvalidRequestError("input: field required", param="input")
    if not isinstance(value, (str, list)) or not value:
        msg = "input: expected a non-empty string or array"
        raise InvalidRequestError(msg, param="input")
    return RequestFacts(
        format="openai",
        operation="embeddings",
        model=model,
        stream=False,
        max_output_tokens=None,
        include_usage=False,
    )
