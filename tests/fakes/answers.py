"""What a fake model answers, independent of any vendor format.

Pure and deterministic: the same prompt always gets the same text, tool calls
and token estimate, so tests can state the expected answer exactly.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

from tests.fakes.payload import JsonObject, dump_json, list_field, object_field

ECHO_PREFIX = "echo: "
"""A text answer is this prefix followed by the last message's text and image notes."""

CHARS_PER_TOKEN = 4
FRAGMENT_COUNT = 3
"""Streamed text and tool arguments are split into this many pieces (at most)."""

_PLACEHOLDERS: dict[str, object] = {
    "string": "example",
    "integer": 1,
    "number": 1,
    "boolean": True,
    "array": [],
    "null": None,
}


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the request offers; `input_schema` is its JSON Schema."""

    name: str
    input_schema: JsonObject


@dataclass(frozen=True, slots=True)
class Prompt:
    """The facts of a request that decide the answer, lifted from vendor JSON."""

    last_text: str
    ends_with_tool_result: bool
    tools: tuple[ToolSpec, ...]
    text_chars: int
    """Length of all text in the request (messages, system, tools)."""
    image_notes: tuple[str, ...] = ()
    """One note per image in the last message, such as `[image image/png 68 bytes]`."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the fake model makes; `arguments` satisfy the tool's schema."""

    call_id: str
    name: str
    arguments: JsonObject

    @property
    def arguments_json(self) -> str:
        return dump_json(self.arguments)


@dataclass(frozen=True, slots=True)
class Answer:
    """Either text or tool calls (never both), with estimated usage.

    `reasoning` is the reasoning text shown to the client (None: none shown);
    `output_tokens` includes `reasoning_tokens`, as both vendors count them.
    """

    text: str
    tool_calls: tuple[ToolCall, ...]
    input_tokens: int
    output_tokens: int
    reasoning: str | None = None
    reasoning_tokens: int = 0

    @property
    def is_tool_use(self) -> bool:
        return bool(self.tool_calls)


def estimate_tokens(chars: int) -> int:
    """The fakes' token count for `chars` characters of text; always >= 1."""
    return chars // CHARS_PER_TOKEN + 1


def plan_answer(prompt: Prompt, *, parallel: bool, call_id_prefix: str) -> Answer:
    """Tool calls when tools are offered and no tool result is pending, else text.

    Call ids are `call_id_prefix` followed by the call's position.
    """
    input_tokens = estimate_tokens(prompt.text_chars)
    if prompt.tools and not prompt.ends_with_tool_result:
        calls = _tool_calls(prompt.tools, parallel=parallel, prefix=call_id_prefix)
        output_chars = sum(len(c.name) + len(c.arguments_json) for c in calls)
        return Answer("", calls, input_tokens, estimate_tokens(output_chars))
    text = echo_text(prompt)
    return Answer(text, (), input_tokens, estimate_tokens(len(text)))


def echo_text(prompt: Prompt) -> str:
    """`echo: <last text>`, followed by one note per image when there are images."""
    if not prompt.image_notes:
        return ECHO_PREFIX + prompt.last_text
    return ECHO_PREFIX + " ".join(part for part in (prompt.last_text, *prompt.image_notes) if part)


def with_reasoning(answer: Answer, text: str | None, tokens: int | None = None) -> Answer:
    """`answer` with reasoning added: `text` shown (if any), `tokens` counted.

    `tokens` defaults to the estimate for `text`; it is added to `output_tokens`.
    """
    counted = tokens if tokens is not None else estimate_tokens(len(text or ""))
    return replace(
        answer,
        reasoning=text,
        reasoning_tokens=counted,
        output_tokens=answer.output_tokens + counted,
    )


def _tool_calls(
    tools: tuple[ToolSpec, ...], *, parallel: bool, prefix: str
) -> tuple[ToolCall, ...]:
    # Parallel answers call the first two tools, or the first one twice.
    chosen = [tools[0], tools[1] if len(tools) > 1 else tools[0]] if parallel else [tools[0]]
    return tuple(
        ToolCall(f"{prefix}{position}", tool.name, arguments_from_schema(tool.input_schema))
        for position, tool in enumerate(chosen)
    )


def arguments_from_schema(schema: Mapping[str, object]) -> JsonObject:
    """A minimal object satisfying `schema`: a placeholder per required property."""
    properties = object_field(schema, "properties")
    required = [name for name in list_field(schema, "required") if isinstance(name, str)]
    return {name: placeholder_for(object_field(properties, name)) for name in required}


def placeholder_for(schema: Mapping[str, object]) -> object:
    """A value of the schema's type: first enum member, nested object, or constant."""
    choices = list_field(schema, "enum")
    if choices:
        return choices[0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return arguments_from_schema(schema)
    return _PLACEHOLDERS.get(kind, "example") if isinstance(kind, str) else "example"


def split_fragments(text: str, parts: int = FRAGMENT_COUNT) -> list[str]:
    """`text` cut into at most `parts` non-empty consecutive pieces."""
    if not text:
        return []
    size = -(-len(text) // parts)
    return [text[start : start + size] for start in range(0, len(text), size)]


def embedding_vector(text: str, dimensions: int) -> list[float]:
    """A deterministic unit-range vector for `text`.

    Each value is k/128 - 1 for a digest byte k, so it survives a float32
    round trip (the base64 encoding) exactly.
    """
    digest = b""
    counter = 0
    while len(digest) < dimensions:
        digest += hashlib.sha256(f"{counter}:{text}".encode()).digest()
        counter += 1
    return [(byte - 128) / 128 for byte in digest[:dimensions]]
