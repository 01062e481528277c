"""The canonical form every wire format translates to and from: requests, answers, events.

Plain frozen values and pure helpers over them; no I/O, no vendor JSON. Each format
module owns its mapping to and from these types (hub and spoke, STYLE section 2), so
N formats need N decoder/encoder pairs, not N x N translators. docs/translation.md is
the user-facing table of what maps to what.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

StopReason = Literal[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "refusal",
    "pause_turn",
    "model_context_window_exceeded",
]
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


@dataclass(frozen=True, slots=True)
class ThinkingBlock:
    """The model's visible reasoning; `signature` ("" when the provider gives none)
    lets Anthropic verify the block when a later turn sends it back."""

    text: str
    signature: str = ""


@dataclass(frozen=True, slots=True)
class RedactedThinkingBlock:
    """Reasoning the provider encrypted; only ever sent back verbatim."""

    data: str


@dataclass(frozen=True, slots=True)
class ImageBlock:
    """An image in a request: base64 bytes with their media type, or a URL.

    Exactly one of `data` (base64, no `data:` prefix) and `url` is set; `media_type`
    goes with `data`. `detail` is OpenAI's resolution hint ("auto", "low", "high").
    """

    data: str | None = None
    media_type: str | None = None
    url: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class ToolResultBlock:
    """The output of a tool call the client ran, sent back in a user turn."""

    tool_call_id: str
    content: tuple[TextBlock | ImageBlock, ...]
    is_error: bool = False


ContentBlock = TextBlock | ToolCallBlock | ThinkingBlock | RedactedThinkingBlock
"""What a model answers with, in order: thinking, text and tool calls."""

RequestBlock = ContentBlock | ImageBlock | ToolResultBlock
"""What a request message may hold."""


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

    `block` is a `TextBlock` with empty text, a `ToolCallBlock` with empty arguments,
    a `ThinkingBlock` with empty text and signature, or a whole `RedactedThinkingBlock`;
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
class ThinkingDelta:
    index: int
    text: str


@dataclass(frozen=True, slots=True)
class SignatureDelta:
    """The signature of thinking block `index`, sent once before its BlockStop."""

    index: int
    signature: str


@dataclass(frozen=True, slots=True)
class MessageStop:
    """The terminal event: a stream without it was cut."""


StreamEvent = (
    MessageStart
    | BlockStart
    | TextDelta
    | ToolArgumentsDelta
    | ThinkingDelta
    | SignatureDelta
    | BlockStop
    | MessageDelta
    | MessageStop
)
"""A stream: MessageStart (BlockStart delta* BlockStop)* MessageDelta MessageStop."""


Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    """One turn. System turns hold only text; tool results travel in user turns.

    OpenAI system/developer messages become system turns where they stand; Anthropic's
    top-level `system` becomes one system turn at the start.
    """

    role: Role
    content: tuple[RequestBlock, ...]


@dataclass(frozen=True, slots=True)
class Tool:
    """A function the model may call; `parameters` is its JSON Schema object."""

    name: str
    parameters: Mapping[str, object]
    description: str | None = None
    strict: bool | None = None


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """auto: the model decides; any: it must call some tool; tool: it must call `name`;
    none: it must not call tools."""

    mode: Literal["auto", "any", "tool", "none"]
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    """Structured output: any JSON object, or JSON matching `schema`."""

    kind: Literal["json_object", "json_schema"]
    schema: Mapping[str, object] | None = None
    name: str | None = None
    strict: bool | None = None


ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]


@dataclass(frozen=True, slots=True)
class Reasoning:
    """Reasoning asked for: OpenAI speaks in effort, Anthropic in a token budget.

    A decoder sets the one its format states; an encoder converts with
    `budget_for_effort` / `effort_for_budget` when it needs the other.
    """

    effort: ReasoningEffort | None = None
    budget_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """A chat request in no provider's format.

    `model` is the name the agent asked for; the broker sets the provider's id when
    it encodes. Fields None mean "not stated": the provider's default applies.
    """

    model: str
    messages: tuple[Message, ...]
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: tuple[str, ...] = ()
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning: Reasoning | None = None
    user: str | None = None  # the end user's id, for the provider's abuse tracking
    stream: bool = False
    include_usage: bool = False  # OpenAI stream_options.include_usage


# Effort -> thinking budget when an effort must become Anthropic `budget_tokens`
# (a gateway policy, WIRE-FORMATS 6.1; documented in docs/translation.md).
EFFORT_BUDGETS: Mapping[ReasoningEffort, int] = {
    "minimal": 1024,
    "low": 2048,
    "medium": 8192,
    "high": 16384,
    "xhigh": 32768,
}


def budget_for_effort(effort: ReasoningEffort) -> int | None:
    """Anthropic `budget_tokens` for an effort; None for "none" (thinking off)."""
    return EFFORT_BUDGETS.get(effort)


def effort_for_budget(budget: int) -> ReasoningEffort:
    """The smallest effort whose budget covers `budget` ("xhigh" beyond all)."""
    for effort, tokens in EFFORT_BUDGETS.items():
        if budget <= tokens:
            return effort
    return "xhigh"


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
    reasoning: bool = False  # reasoning_effort or thinking asked for (and not "none")
    images: tuple[str, ...] = ()  # per image: "image/png 68 bytes" or "url https://..."
    last_tool_result: str | None = None  # text of the tool result that ends the request


def describe_image(media_type: str, data: str) -> str:
    """A digest's note for a base64 image: its type and decoded size."""
    try:
        size = len(base64.b64decode(data, validate=True))
    except binascii.Error:
        return f"{media_type} undecodable"
    return f"{media_type} {size} bytes"


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


FailureKind = Literal[
    "invalid_request",
    "context_length",  # the prompt is longer than the model takes
    "authentication",
    "permission",
    "not_found",
    "too_large",
    "rate_limit",
    "overloaded",
    "timeout",
    "server",
]


@dataclass(frozen=True, slots=True)
class Failure:
    """A provider's error answer in no format's vocabulary (WIRE-FORMATS 6.5).

    Each format reads its error bodies into this and renders it back with its own
    status and type, so a 529 from Anthropic reaches an OpenAI agent as a 503.
    """

    kind: FailureKind
    message: str
    param: str | None = None
