"""The canonical form every wire format translates to and from: answers, stream events.

Plain frozen values and pure helpers over them; no I/O, no vendor JSON. Each format
module owns its mapping to and from these types (hub and spoke, STYLE section 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"]
"""Why the model stopped; Anthropic's vocabulary, mapped per WIRE-FORMATS 6.2."""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call, in the canonical quantities of WIRE-FORMATS 6.3.

    `input_tokens` excludes cache reads and writes (Anthropic semantics); the total
    input is `input_tokens + cache_read_tokens + cache_write_tokens`.
    `output_tokens` includes `reasoning_tokens`.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True, slots=True)
class TextBlock:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallBlock:
    """A call the model asks the client to run."""

    id: str
    name: str
    arguments: str  # JSON text, as OpenAI carries it; "" means no arguments


ContentBlock = TextBlock | ToolCallBlock


@dataclass(frozen=True, slots=True)
class Response:
    """A complete model answer."""

    id: str
    model: str
    content: tuple[ContentBlock, ...]
    stop_reason: StopReason
    usage: Usage
    stop_sequence: str | None = None  # the stop string that matched, when known


@dataclass(frozen=True, slots=True)
class MessageStart:
    """Opens a stream; `usage` holds what is known up front (input and cache counts)."""

    id: str
    model: str
    usage: Usage


@dataclass(frozen=True, slots=True)
class BlockStart:
    """Opens content block `index` (0, 1, 2... in order, across all block kinds).

    `block` is a `TextBlock` with empty text or a `ToolCallBlock` with empty arguments;
    the content arrives in the deltas that follow.
    """

    index: int
    block: ContentBlock


@dataclass(frozen=True, slots=True)
class TextDelta:
    index: int
    text: str


@dataclass(frozen=True, slots=True)
class ToolArgumentsDelta:
    """A fragment of a tool call's JSON arguments; only the concatenation parses."""

    index: int
    partial_json: str


@dataclass(frozen=True, slots=True)
class BlockStop:
    index: int


@dataclass(frozen=True, slots=True)
class MessageDelta:
    """The stop reason and the cumulative usage (replace, never add).

    Input and cache counts left at 0 here mean "as reported in `MessageStart`".
    """

    stop_reason: StopReason
    usage: Usage
    stop_sequence: str | None = None


@dataclass(frozen=True, slots=True)
class MessageStop:
    """The terminal event: a stream without it was cut."""


StreamEvent = (
    MessageStart
    | BlockStart
    | TextDelta
    | ToolArgumentsDelta
    | BlockStop
    | MessageDelta
    | MessageStop
)
"""A stream: MessageStart (BlockStart delta* BlockStop)* MessageDelta MessageStop."""


@dataclass(frozen=True, slots=True)
class ToolParameter:
    """One required property of a tool's input schema."""

    name: str
    json_type: str | None  # "string", "integer", ...; None when the schema names none


@dataclass(frozen=True, slots=True)
class ToolSummary:
    name: str
    required: tuple[ToolParameter, ...]


@dataclass(frozen=True, slots=True)
class ConversationDigest:
    """The few facts of a chat request a simulated model answers from."""

    last_user_text: str  # text of the last user message that has any text
    tool_names: tuple[str, ...]
    first_tool: ToolSummary | None
    ends_with_tool_result: bool
    input_text_chars: int  # characters of system, message and tool-definition text
    max_tokens: int | None
    stream: bool
    include_usage: bool  # OpenAI stream_options.include_usage; False for Anthropic


def merged_usage(start: Usage, final: Usage) -> Usage:
    """The final usage of a stream: `final`, with input and cache counts from `start`.

    Counts `final` leaves at 0 come from `start`: Anthropic reports them in
    message_start only (WIRE-FORMATS pitfall 3).
    """
    return Usage(
        input_tokens=final.input_tokens or start.input_tokens,
        output_tokens=final.output_tokens,
        cache_read_tokens=final.cache_read_tokens or start.cache_read_tokens,
        cache_write_tokens=final.cache_write_tokens or start.cache_write_tokens,
        reasoning_tokens=final.reasoning_tokens,
    )


def summarize_tool(name: str, schema: Mapping[str, object]) -> ToolSummary:
    """A tool's required properties, read from its JSON Schema (as both formats use)."""
    required = schema.get("required")
    properties = schema.get("properties")
    if not isinstance(required, list):
        return ToolSummary(name=name, required=())
    if not isinstance(properties, dict):
        properties = {}
    parameters = tuple(
        ToolParameter(name=key, json_type=_json_type(properties.get(key)))
        for key in required
        if isinstance(key, str)
    )
    return ToolSummary(name=name, required=parameters)


def _json_type(property_schema: object) -> str | None:
    """The schema's `type`; of a list such as ["string", "null"], the first non-null."""
    if not isinstance(property_schema, dict):
        return None
    declared = property_schema.get("type")
    if isinstance(declared, str):
        return declared
    if isinstance(declared, list):
        return next((t for t in declared if isinstance(t, str) and t != "null"), None)
    return None
