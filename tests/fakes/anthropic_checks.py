"""What the real Anthropic API refuses in a request body, as `Rejection`s.

Top-level fields, `system`, sampling, `thinking`, `tools` and `tool_choice`
(WIRE-FORMATS.md sections 3.2 and 3.6); the conversation is `anthropic_turns`.
Pure: the fake renders the first rejection as its 400.
"""

import re
from collections.abc import Iterator

from tests.fakes.anthropic_turns import conversation_rejections
from tests.fakes.payload import JsonObject, as_object, int_field, list_field, object_field
from tests.fakes.rejection import Rejection, first_rejection, is_number

_SHARED_FIELDS = frozenset(
    {
        "model",
        "messages",
        "system",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "cache_control",
        "speed",
        "user_profile_id",
        "workspace_id",
        # Beta fields (sent by `client.beta.messages`, `?beta=true`).
        "context_management",
        "mcp_servers",
        "compaction",
        "billing_policy",
    }
)

MESSAGES_FIELDS = _SHARED_FIELDS | {
    "max_tokens",
    "stop_sequences",
    "stream",
    "metadata",
    "service_tier",
    "container",
    "inference_geo",
    "diagnostics",
    # Declared by SDK <= 0.125 and still accepted (section 3.2).
    "temperature",
    "top_p",
    "top_k",
    # Beta-only fields.
    "thread",
    "fallbacks",
    "fallback_credit_token",
}
"""Top-level fields of `POST /v1/messages`: the SDK 2.14 and 0.125 params, with beta."""

COUNT_TOKENS_FIELDS = _SHARED_FIELDS
"""Top-level fields of `POST /v1/messages/count_tokens` (no `max_tokens`, section 3.6)."""

MIN_THINKING_BUDGET = 1024
THINKING_TYPES = ("enabled", "disabled", "adaptive")
THINKING_ON = ("enabled", "adaptive")
TOOL_CHOICE_TYPES = ("auto", "any", "tool", "none")
FORCED_TOOL_CHOICES = ("any", "tool")
TOOL_NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,128}")
_THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"


def messages_rejection(body: JsonObject) -> Rejection | None:
    """Why the API would refuse `body` on `/v1/messages`, or None if it would not."""
    return first_rejection(_rejections(body, MESSAGES_FIELDS))


def count_tokens_rejection(body: JsonObject) -> Rejection | None:
    """Why the API would refuse `body` on `/v1/messages/count_tokens`, or None."""
    return first_rejection(_rejections(body, COUNT_TOKENS_FIELDS))


def is_thinking(body: JsonObject) -> bool:
    """True when the request turns extended thinking on (`enabled` or `adaptive`)."""
    return object_field(body, "thinking").get("type") in THINKING_ON


def _tag_message(found: object, expected: tuple[str, ...]) -> str:
    tags = ", ".join(f"'{tag}'" for tag in expected)
    return f"Input tag '{found}' found using 'type' does not match any of the expected tags: {tags}"


def _rejections(body: JsonObject, fields: frozenset[str]) -> Iterator[Rejection]:
    thinking = is_thinking(body)
    for field in body:
        if field not in fields:
            yield Rejection("Extra inputs are not permitted", field)
    if not list_field(body, "messages"):
        yield Rejection("Field required", "messages")
    max_tokens = int_field(body, "max_tokens")
    if "max_tokens" in body and max_tokens is None:
        yield Rejection("Input should be a valid integer", "max_tokens")
    elif max_tokens is not None and max_tokens < 1:
        yield Rejection("Input should be greater than or equal to 1", "max_tokens")
    yield from _system_rejections(body.get("system"))
    yield from _temperature_rejections(body.get("temperature"), thinking=thinking)
    yield from _thinking_rejections(body.get("thinking"), max_tokens)
    yield from _tool_rejections(body.get("tools"))
    yield from _tool_choice_rejections(body.get("tool_choice"), thinking=thinking)
    yield from conversation_rejections(list_field(body, "messages"), thinking=thinking)


def _system_rejections(system: object) -> Iterator[Rejection]:
    # `system` is a string or a list of text blocks (section 3.2).
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        yield Rejection("Input should be a valid string or a list of text blocks", "system")
        return
    for index, block in enumerate(system):
        spec = as_object(block)
        text = spec.get("text")
        if spec.get("type") != "text":
            yield Rejection("Input should be 'text'", f"system.{index}.type")
        elif not isinstance(text, str) or not text:
            yield Rejection("text content blocks must be non-empty", f"system.{index}.text")


def _temperature_rejections(temperature: object, *, thinking: bool) -> Iterator[Rejection]:
    if temperature is None:
        return
    if not is_number(temperature):
        yield Rejection("Input should be a valid number", "temperature")
    elif isinstance(temperature, int | float) and not 0 <= temperature <= 1:
        bound = "greater than or equal to 0" if temperature < 0 else "less than or equal to 1"
        yield Rejection(f"Input should be {bound}", "temperature")
    elif thinking and temperature != 1:
        message = f"`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at {_THINKING_DOCS}"
        yield Rejection(message, "temperature")


def _thinking_rejections(thinking: object, max_tokens: int | None) -> Iterator[Rejection]:
    # {"type":"enabled","budget_tokens":N} needs 1024 <= N < max_tokens (section 3.2).
    if thinking is None:
        return
    kind = as_object(thinking).get("type")
    if kind not in THINKING_TYPES:
        yield Rejection(_tag_message(kind, THINKING_TYPES), "thinking")
        return
    if kind != "enabled":
        return
    path = "thinking.enabled.budget_tokens"
    budget = int_field(as_object(thinking), "budget_tokens")
    if budget is None:
        yield Rejection("Field required", path)
    elif budget < MIN_THINKING_BUDGET:
        yield Rejection(f"Input should be greater than or equal to {MIN_THINKING_BUDGET}", path)
    elif max_tokens is not None and budget >= max_tokens:
        message = (
            "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
            f"documentation at {_THINKING_DOCS}#max-tokens-and-context-window-size"
        )
        yield Rejection(message, path)


def _tool_rejections(tools: object) -> Iterator[Rejection]:
    # Custom tools need a name and an `input_schema`; server tools carry a dated type.
    if tools is None:
        return
    if not isinstance(tools, list):
        yield Rejection("Input should be a valid list", "tools")
        return
    for index, tool in enumerate(tools):
        spec = as_object(tool)
        kind = spec.get("type")
        path = f"tools.{index}"
        if not isinstance(tool, dict) or kind == "function":
            yield Rejection(_tag_message(kind, ("custom", "<server tool>_YYYYMMDD")), path)
        elif kind in {None, "custom"}:
            name = spec.get("name")
            if not isinstance(name, str) or TOOL_NAME_PATTERN.fullmatch(name) is None:
                message = "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'"
                yield Rejection(message, f"{path}.custom.name")
            if not isinstance(spec.get("input_schema"), dict):
                yield Rejection("Field required", f"{path}.custom.input_schema")


def _tool_choice_rejections(tool_choice: object, *, thinking: bool) -> Iterator[Rejection]:
    # auto | any | tool(name) | none; all but none may disable parallel use.
    if tool_choice is None:
        return
    if not isinstance(tool_choice, dict):
        yield Rejection("Input should be a valid dictionary or object", "tool_choice")
        return
    choice = as_object(tool_choice)
    kind = choice.get("type")
    if kind not in TOOL_CHOICE_TYPES:
        yield Rejection(_tag_message(kind, TOOL_CHOICE_TYPES), "tool_choice")
        return
    path = f"tool_choice.{kind}"
    allowed = {"type", "name"} if kind == "tool" else {"type"}
    allowed |= {"disable_parallel_tool_use"} if kind != "none" else set()
    for key in choice:
        if key not in allowed:
            yield Rejection("Extra inputs are not permitted", f"{path}.{key}")
    if kind == "tool" and not isinstance(choice.get("name"), str):
        yield Rejection("Field required", f"{path}.name")
    if not isinstance(choice.get("disable_parallel_tool_use", False), bool):
        yield Rejection("Input should be a valid boolean", f"{path}.disable_parallel_tool_use")
    if thinking and kind in FORCED_TOOL_CHOICES:
        yield Rejection(
            "Thinking may not be enabled when tool_choice forces tool use.", "tool_choice"
        )
