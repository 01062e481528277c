"""Gemini `GenerateContentResponse` values to canonical parts, usage and stop reasons.

Pure helpers shared by the whole-answer and the stream decoder (WIRE-FORMATS 5.3, 6.2,
6.3). A shape this module cannot read raises `MalformedError`; the decoders turn it
into the right upstream error.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import orjson

from dome.wire.canonical import StopReason, Usage

# finishReason -> canonical (WIRE-FORMATS 6.2). Gemini has no tool-call reason: STOP
# with a functionCall part is `tool_use` (see `stop_reason`). Reasons not listed,
# including ones Google adds later, end the turn normally.
_STOP_REASONS: Mapping[str, StopReason] = MappingProxyType(
    {
        "STOP": "end_turn",
        "MAX_TOKENS": "max_tokens",
        "SAFETY": "refusal",
        "RECITATION": "refusal",
        "BLOCKLIST": "refusal",
        "PROHIBITED_CONTENT": "refusal",
        "SPII": "refusal",
        "MODEL_ARMOR": "refusal",
        "IMAGE_SAFETY": "refusal",
        "IMAGE_PROHIBITED_CONTENT": "refusal",
        "IMAGE_RECITATION": "refusal",
        "IMAGE_OTHER": "refusal",
    }
)


class MalformedError(Exception):
    """The answer's shape is wrong at the place the message names."""


@dataclass(frozen=True, slots=True)
class PartFacts:
    """What one `Part` holds, in the canonical vocabulary.

    kind "text", "thought" or "call"; `text` is the text or the call's JSON arguments;
    `signature` is the part's `thoughtSignature` ("" when none).
    """

    kind: str
    text: str
    signature: str = ""
    call_name: str = ""
    call_id: str = ""


def parse_json(raw: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        message = f"not JSON: {exc}"
        raise MalformedError(message) from exc
    if not isinstance(value, dict):
        message = "expected a JSON object"
        raise MalformedError(message)
    return value


def first_candidate(answer: Mapping[str, Any]) -> Mapping[str, Any] | None:
    candidates = answer.get("candidates")
    if candidates is None or candidates == []:
        return None
    if not isinstance(candidates, list) or not isinstance(candidates[0], dict):
        message = "candidates: expected a list of objects"
        raise MalformedError(message)
    return candidates[0]


def candidate_parts(candidate: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = candidate.get("content")
    if content is None:
        return []  # a candidate stopped for safety may carry no content
    parts = content.get("parts", []) if isinstance(content, dict) else None
    if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
        message = "candidates[0].content.parts: expected a list of objects"
        raise MalformedError(message)
    return parts


def part_facts(part: Mapping[str, Any], new_call_id: str) -> PartFacts | None:
    """The facts of `part`; None for parts the canonical form has no block for.

    `new_call_id` is used for a functionCall without its own `id` (the usual case:
    WIRE-FORMATS 5.3, "the gateway must invent ids").
    """
    signature = part.get("thoughtSignature", "")
    if not isinstance(signature, str):
        raise MalformedError("part.thoughtSignature: expected a string")
    call = part.get("functionCall")
    if call is not None:
        return _call_facts(call, signature, new_call_id)
    text = part.get("text")
    if text is None:
        if signature:  # a signature alone, kept for the next turn
            return PartFacts("text", "", signature)
        return None  # executableCode, inlineData answers...: not in the canonical form
    if not isinstance(text, str):
        raise MalformedError("part.text: expected a string")
    if not text and not signature:
        return None  # an empty part says nothing
    kind = "thought" if part.get("thought") is True else "text"
    return PartFacts(kind, text, signature)


def _call_facts(call: object, signature: str, new_call_id: str) -> PartFacts:
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        raise MalformedError("part.functionCall: expected an object with a name")
    args = call.get("args", {})
    if not isinstance(args, dict):
        raise MalformedError("part.functionCall.args: expected an object")
    call_id = call.get("id")
    return PartFacts(
        "call",
        orjson.dumps(args).decode(),
        signature,
        call_name=call["name"],
        call_id=call_id if isinstance(call_id, str) and call_id else new_call_id,
    )


def stop_reason(finish_reason: object, *, has_calls: bool) -> StopReason:
    if not isinstance(finish_reason, str):
        raise MalformedError("candidates[0].finishReason: expected a string")
    if finish_reason == "STOP" and has_calls:
        return "tool_use"
    return _STOP_REASONS.get(finish_reason, "end_turn")


def usage(value: object) -> Usage:
    """`usageMetadata` in canonical counts (WIRE-FORMATS 5.3, 6.3).

    `promptTokenCount` includes the cached tokens; `candidatesTokenCount` excludes
    `thoughtsTokenCount`, so output is their sum. Tool-use prompt tokens are input.
    Without `candidatesTokenCount` the output is derived from `totalTokenCount`.
    """
    if value is None:
        return Usage()
    if not isinstance(value, dict):
        raise MalformedError("usageMetadata: expected an object")
    prompt = _count(value, "promptTokenCount")
    cached = _count(value, "cachedContentTokenCount")
    tool_prompt = _count(value, "toolUsePromptTokenCount")
    thoughts = _count(value, "thoughtsTokenCount")
    if "candidatesTokenCount" in value:
        output = _count(value, "candidatesTokenCount") + thoughts
    else:
        output = max(0, _count(value, "totalTokenCount") - prompt - tool_prompt)
    return Usage(
        input_tokens=max(0, prompt - cached) + tool_prompt,
        output_tokens=output,
        cache_read_tokens=cached,
        reasoning_tokens=thoughts,
    )


def _count(usage_metadata: Mapping[str, Any], key: str) -> int:
    value = usage_metadata.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        message = f"usageMetadata.{key}: expected a count"
        raise MalformedError(message)
    return value


def answer_id(answer: Mapping[str, Any]) -> str:
    """`responseId`, or a fresh id when the provider gave none."""
    response_id = answer.get("responseId")
    return response_id if isinstance(response_id, str) and response_id else uuid.uuid4().hex


def call_id(response_id: str, position: int) -> str:
    """The id minted for the `position`-th function call of answer `response_id`.

    Unique within a conversation because response ids are; the request encoder maps
    it back to the function's name.
    """
    return f"call_{response_id}_{position}"


def model_version(answer: Mapping[str, Any]) -> str:
    version = answer.get("modelVersion", "")
    return version if isinstance(version, str) else ""


def error_text(answer: Mapping[str, Any]) -> str | None:
    """The `status: message` of an `{"error": {...}}` body, None when it is no error."""
    error = answer.get("error")
    if not isinstance(error, dict):
        return None
    status, message = error.get("status"), error.get("message")
    status_text = status if isinstance(status, str) else str(error.get("code", "UNKNOWN"))
    return f"{status_text}: {message if isinstance(message, str) else 'no message'}"
