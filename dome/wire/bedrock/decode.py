"""Bedrock Converse answers, whole or streamed, to the canonical form.

Pure, sans I/O: `decode_converse_response` reads a Converse body (WIRE-FORMATS 4.2);
`ConverseStreamDecoder` takes event-stream bytes in any split (framing parsed by
botocore, `eventstream.py`) and returns canonical events (WIRE-FORMATS 4.3). A
malformed answer is the provider's fault: `UpstreamUnavailableError` for a body,
`UpstreamStreamError` for a stream.

Converse answers carry no id and no model: the caller passes them (the
`x-amzn-RequestId` header and the model it asked for).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import orjson

from dome.errors import UpstreamStreamError, UpstreamUnavailableError
from dome.wire.answer_fields import (
    MalformedAnswerError,
    count_at,
    json_value,
    object_at,
    string_at,
)
from dome.wire.bedrock.errors import stream_failure
from dome.wire.canonical import (
    ContentBlock,
    Failure,
    RedactedThinkingBlock,
    Response,
    StopReason,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    Usage,
)

# Converse stopReason to the canonical (Anthropic) vocabulary, WIRE-FORMATS 6.2.
# Guardrail and content-filter stops are refusals; malformed model output ends the turn.
STOP_REASONS: Mapping[str, StopReason] = MappingProxyType(
    {
        "end_turn": "end_turn",
        "stop_sequence": "stop_sequence",
        "tool_use": "tool_use",
        "max_tokens": "max_tokens",
        "model_context_window_exceeded": "model_context_window_exceeded",
        "guardrail_intervened": "refusal",
        "content_filtered": "refusal",
        "malformed_model_output": "end_turn",
        "malformed_tool_use": "end_turn",
    }
)


class ConverseStreamExceptionError(UpstreamStreamError):
    """The stream delivered an `exception` message; `failure` says which kind.

    Bedrock may send one as the first (or only) message of a 200 stream
    (WIRE-FORMATS 4.6): the provider reads `failure` to fail over or answer a real
    status before anything reached the agent.
    """

    def __init__(self, failure: Failure, exception_type: str) -> None:
        super().__init__(f"the provider's stream failed: {exception_type}: {failure.message}")
        self.failure = failure
        self.exception_type = exception_type


def decode_converse_response(body: bytes, *, response_id: str, model: str) -> Response:
    """The canonical answer of a Converse body; `response_id` and `model` from the caller.

    Raises:
        UpstreamUnavailableError: the body is not a well-formed Converse answer.
    """
    try:
        return _response(object_at(json_value(body), "response"), response_id, model)
    except MalformedAnswerError as exc:
        message = f"the provider answered with a malformed Converse response: {exc}"
        raise UpstreamUnavailableError(message) from exc


def usage(value: object, path: str) -> Usage:
    """WIRE-FORMATS 4.2, 6.3: `inputTokens` is already the uncached part."""
    counts = object_at(value, path)
    return Usage(
        input_tokens=count_at(counts, "inputTokens", path),
        output_tokens=count_at(counts, "outputTokens", path),
        cache_read_tokens=count_at(counts, "cacheReadInputTokens", path),
        cache_write_tokens=count_at(counts, "cacheWriteInputTokens", path),
    )


def stop_reason(value: object, path: str) -> StopReason:
    reason = STOP_REASONS.get(value) if isinstance(value, str) else None
    if reason is None:
        raise MalformedAnswerError(f"{path}: unknown stop reason {value!r}")
    return reason


def stop_sequence(fields: object) -> str | None:
    """The matched stop string, when `additionalModelResponseFields` carries it."""
    if isinstance(fields, dict):
        value = fields.get("stop_sequence")
        if isinstance(value, str):
            return value
    return None


def stream_exception(exception_type: str, payload: bytes) -> ConverseStreamExceptionError:
    return ConverseStreamExceptionError(stream_failure(exception_type, payload), exception_type)


def _block(block: dict[str, Any], path: str) -> ContentBlock:
    """One content block of the union; exactly one key is set (WIRE-FORMATS 4.2)."""
    if "text" in block:
        return TextBlock(string_at(block, "text", path))
    if "toolUse" in block:
        tool_use = object_at(block["toolUse"], f"{path}.toolUse")
        tool_input = tool_use.get("input", {})
        return ToolCallBlock(
            string_at(tool_use, "toolUseId", f"{path}.toolUse"),
            string_at(tool_use, "name", f"{path}.toolUse"),
            orjson.dumps(tool_input).decode(),
        )
    if "reasoningContent" in block:
        reasoning = object_at(block["reasoningContent"], f"{path}.reasoningContent")
        if "redactedContent" in reasoning:
            return RedactedThinkingBlock(string_at(reasoning, "redactedContent", path))
        text = object_at(reasoning.get("reasoningText"), f"{path}.reasoningText")
        signature = text.get("signature")
        return ThinkingBlock(
            string_at(text, "text", f"{path}.reasoningText"),
            signature if isinstance(signature, str) else "",
        )
    kinds = ", ".join(sorted(block)) or "empty"
    raise MalformedAnswerError(f"{path}: a {kinds} block, which cannot be translated")


def _response(body: dict[str, Any], response_id: str, model: str) -> Response:
    output = object_at(body.get("output"), "output")
    message = object_at(output.get("message"), "output.message")
    content = message.get("content")
    if not isinstance(content, list):
        raise MalformedAnswerError("output.message.content: expected an array")
    blocks = tuple(
        _block(object_at(item, f"content.{i}"), f"content.{i}") for i, item in enumerate(content)
    )
    return Response(
        id=response_id,
        model=model,
        content=blocks,
        stop_reason=stop_reason(body.get("stopReason"), "stopReason"),
        usage=usage(body.get("usage"), "usage"),
        stop_sequence=stop_sequence(body.get("additionalModelResponseFields")),
    )
