"""An agent's Anthropic Messages request (`POST /v1/messages`) to the canonical form.

Pure; used only when the serving provider speaks another format (same-format calls pass
through untouched). Every field is carried, accepted without being carried, or refused
with `UnsupportedError` naming its path, never dropped silently, as `request_fields`
states. A field that is not carried but set to null, false or [] states nothing.

Malformed shapes raise `InvalidRequestError` naming the path (`messages.1.content.0.source.data`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, NoReturn

import orjson

from dome.errors import UnsupportedError
from dome.wire.anthropic.request_fields import (
    ACCEPTED_NESTED_FIELDS,
    ACCEPTED_NOT_CARRIED,
    ADAPTIVE_THINKING_EFFORT,
    CARRIED_BLOCK_TYPES,
    CARRIED_FIELDS,
    EFFORTS,
    IMAGE_MEDIA_TYPES,
    UNSUPPORTED_FIELDS,
)
from dome.wire.canonical import (
    ImageBlock,
    Message,
    Reasoning,
    ReasoningEffort,
    RedactedThinkingBlock,
    Request,
    RequestBlock,
    ResponseFormat,
    Role,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCallBlock,
    ToolChoice,
    ToolResultBlock,
)
from dome.wire.facts import optional_bool, optional_int, required_list, required_string
from dome.wire.shape import JSONObject, expect_array, expect_object, expect_string, fail

_MIN_THINKING_BUDGET = 1024  # Anthropic's minimum `budget_tokens` (WIRE-FORMATS 3.2)

_ROLES: Mapping[str, Role] = MappingProxyType(
    {"user": "user", "assistant": "assistant", "system": "system"}
)
# Which block types each role may hold: tool calls and thinking are the model's,
# tool results the client's (WIRE-FORMATS 3.2); system turns hold text only.
_ROLE_BLOCKS: Mapping[Role, frozenset[str]] = MappingProxyType(
    {
        "user": frozenset({"text", "image", "tool_result"}),
        "assistant": frozenset({"text", "image", "tool_use", "thinking", "redacted_thinking"}),
        "system": frozenset({"text"}),
    }
)
ToolChoiceMode = Literal["auto", "any", "tool", "none"]
_TOOL_CHOICE_MODES: Mapping[str, ToolChoiceMode] = MappingProxyType(
    {"auto": "auto", "any": "any", "tool": "tool", "none": "none"}
)
_DIRECT_CALLER = MappingProxyType({"type": "direct"})


def decode_messages_request(body: dict[str, Any]) -> Request:
    """The canonical request of a `POST /v1/messages` body.

    Raises:
        InvalidRequestError: a field is missing or has a bad shape; the message names it.
        UnsupportedError: a field exists in Anthropic but cannot be carried; `param` names it.
    """
    _check_top_level(body)
    max_tokens = _max_tokens(body)
    output_config = _optional_object(body, "output_config")
    tool_choice, parallel_tool_calls = _tool_choice(body.get("tool_choice"))
    return Request(
        model=required_string(body, "model"),
        messages=(*_system(body.get("system")), *_messages(body)),
        max_tokens=max_tokens,
        temperature=_unit_number(body, "temperature"),
        top_p=_unit_number(body, "top_p"),
        top_k=optional_int(body, "top_k"),
        stop=_stop_sequences(body.get("stop_sequences")),
        tools=_tools(body.get("tools")),
        tool_choice=tool_choice,
        parallel_tool_calls=parallel_tool_calls,
        response_format=_response_format(output_config),
        reasoning=_reasoning(body.get("thinking"), output_config, max_tokens),
        user=_user(body.get("metadata")),
        stream=optional_bool(body, "stream"),
    )


def _refuse(path: str, reason: str) -> NoReturn:
    message = f"{path}: cannot be translated for the provider serving this model ({reason})"
    raise UnsupportedError(message, param=path)


def _is_absent(value: object) -> bool:
    """Null, false and [] state nothing: accepted even where the field is not carried."""
    return value is None or value is False or value == []


def _check_top_level(body: Mapping[str, object]) -> None:
    for key, value in body.items():
        if key in CARRIED_FIELDS or key in ACCEPTED_NOT_CARRIED or _is_absent(value):
            continue
        _refuse(key, UNSUPPORTED_FIELDS.get(key, "a field the broker does not know"))


def _check_keys(obj: JSONObject, path: str, carried: frozenset[str]) -> None:
    """Refuse keys of a nested object that are neither carried nor known to be safe."""
    for key, value in obj.items():
        if key in carried or key in ACCEPTED_NESTED_FIELDS or _is_absent(value):
            continue
        _refuse(f"{path}.{key}", "a field the broker does not translate")


def _required(obj: JSONObject, key: str, path: str) -> object:
    if key not in obj or obj[key] is None:
        fail(f"{path}.{key}", "field required")
    return obj[key]


def _optional_object(body: Mapping[str, object], key: str) -> JSONObject | None:
    value = body.get(key)
    return None if value is None else expect_object(value, key)


def _max_tokens(body: dict[str, Any]) -> int:
    """Required by the Messages API, which has no default (WIRE-FORMATS 3.2)."""
    value = optional_int(body, "max_tokens")
    if value is None:
        fail("max_tokens", "field required")
    if value < 1:
        fail("max_tokens", "must be at least 1")
    return value


def _unit_number(body: Mapping[str, object], key: str) -> float | None:
    """`temperature` and `top_p`: Anthropic accepts 0 to 1 (WIRE-FORMATS 6.1)."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        fail(key, "expected a number from 0 to 1")
    return float(value)


def _stop_sequences(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items = expect_array(value, "stop_sequences")
    return tuple(expect_string(item, f"stop_sequences.{i}") for i, item in enumerate(items))


def _system(value: object) -> tuple[Message, ...]:
    """The top-level `system` (a string or text blocks) as one leading system turn."""
    if value is None or value in ("", []):
        return ()
    if isinstance(value, str):
        return (Message(role="system", content=(TextBlock(value),)),)
    items = expect_array(value, "system")
    blocks = tuple(_block(item, f"system.{i}", "system") for i, item in enumerate(items))
    return (Message(role="system", content=blocks),)


def _messages(body: dict[str, Any]) -> tuple[Message, ...]:
    items = required_list(body, "messages")
    if not items:
        fail("messages", "must not be empty")
    return tuple(_message(item, f"messages.{i}") for i, item in enumerate(items))


def _message(item: object, path: str) -> Message:
    """A turn; `system` turns inside `messages` (SDK 2.x) stay where they stand."""
    message = expect_object(item, path)
    _check_keys(message, path, frozenset({"role", "content"}))
    role = _ROLES.get(str(_required(message, "role", path)))
    if role is None:
        fail(f"{path}.role", "expected 'user', 'assistant' or 'system'")
    content = _required(message, "content", path)
    if isinstance(content, str):
        return Message(role=role, content=(TextBlock(content),))
    if not isinstance(content, list):
        fail(f"{path}.content", "expected a string or an array")
    blocks = tuple(_block(block, f"{path}.content.{j}", role) for j, block in enumerate(content))
    return Message(role=role, content=blocks)


def _block(item: object, path: str, role: Role) -> RequestBlock:
    block = expect_object(item, path)
    kind = expect_string(_required(block, "type", path), f"{path}.type")
    if kind not in CARRIED_BLOCK_TYPES:
        _refuse(path, f"{kind} blocks have no equivalent in other formats")
    if kind not in _ROLE_BLOCKS[role]:
        fail(f"{path}.type", f"{kind} blocks are not allowed in a {role} turn")
    match kind:
        case "text":
            return _text(block, path)
        case "image":
            return _image(block, path)
        case "tool_use":
            return _tool_use(block, path)
        case "tool_result":
            return _tool_result(block, path)
        case "thinking":
            _check_keys(block, path, frozenset({"type", "thinking", "signature"}))
            text = expect_string(_required(block, "thinking", path), f"{path}.thinking")
            signature = expect_string(block.get("signature", ""), f"{path}.signature")
            return ThinkingBlock(text=text, signature=signature)
        case _:
            _check_keys(block, path, frozenset({"type", "data"}))
            data = expect_string(_required(block, "data", path), f"{path}.data")
            return RedactedThinkingBlock(data)


def _text(block: JSONObject, path: str) -> TextBlock:
    if not _is_absent(block.get("citations")):
        _refuse(f"{path}.citations", "citations point into documents other formats lack")
    _check_keys(block, path, frozenset({"type", "text"}))
    return TextBlock(expect_string(_required(block, "text", path), f"{path}.text"))


def _image(block: JSONObject, path: str) -> ImageBlock:
    _check_keys(block, path, frozenset({"type", "source"}))
    source_path = f"{path}.source"
    source = expect_object(_required(block, "source", path), source_path)
    kind = source.get("type")
    if kind == "base64":
        _check_keys(source, source_path, frozenset({"type", "media_type", "data"}))
        media_type = _required(source, "media_type", source_path)
        if media_type not in IMAGE_MEDIA_TYPES:
            expected = ", ".join(sorted(IMAGE_MEDIA_TYPES))
            fail(f"{source_path}.media_type", f"expected one of {expected}")
        data = expect_string(_required(source, "data", source_path), f"{source_path}.data")
        return ImageBlock(data=data, media_type=str(media_type))
    if kind == "file":
        _refuse(source_path, "Files API references exist only on Anthropic")
    if kind != "url":
        fail(f"{source_path}.type", "expected 'base64' or 'url'")
    _check_keys(source, source_path, frozenset({"type", "url"}))
    url = expect_string(_required(source, "url", source_path), f"{source_path}.url")
    return ImageBlock(url=url)


def _tool_use(block: JSONObject, path: str) -> ToolCallBlock:
    caller = block.get("caller")
    if caller is not None and caller != _DIRECT_CALLER:
        _refuse(f"{path}.caller", "calls made by Anthropic's server tools")
    _check_keys(block, path, frozenset({"type", "id", "name", "input", "caller"}))
    arguments = expect_object(_required(block, "input", path), f"{path}.input")
    return ToolCallBlock(
        id=expect_string(_required(block, "id", path), f"{path}.id"),
        name=expect_string(_required(block, "name", path), f"{path}.name"),
        # Compact JSON text, as OpenAI carries arguments (WIRE-FORMATS 6.1b).
        arguments=orjson.dumps(arguments).decode(),
    )


def _tool_result(block: JSONObject, path: str) -> ToolResultBlock:
    _check_keys(block, path, frozenset({"type", "tool_use_id", "content", "is_error"}))
    tool_call_id = expect_string(_required(block, "tool_use_id", path), f"{path}.tool_use_id")
    is_error = block.get("is_error", False)
    if not isinstance(is_error, bool):
        fail(f"{path}.is_error", "expected a boolean")
    content = block.get("content")
    blocks: tuple[TextBlock | ImageBlock, ...]
    if content is None:
        blocks = ()
    elif isinstance(content, str):
        blocks = (TextBlock(content),)
    else:
        items = expect_array(content, f"{path}.content")
        blocks = tuple(_result_block(item, f"{path}.content.{k}") for k, item in enumerate(items))
    return ToolResultBlock(tool_call_id=tool_call_id, content=blocks, is_error=is_error)


def _result_block(item: object, path: str) -> TextBlock | ImageBlock:
    """Tool results carry text and images; documents, search results... are refused."""
    block = expect_object(item, path)
    kind = block.get("type")
    if kind == "text":
        return _text(block, path)
    if kind == "image":
        return _image(block, path)
    _refuse(path, f"{kind} blocks in a tool result have no equivalent in other formats")


def _tools(value: object) -> tuple[Tool, ...]:
    if value is None:
        return ()
    return tuple(_tool(item, f"tools.{i}") for i, item in enumerate(expect_array(value, "tools")))


def _tool(item: object, path: str) -> Tool:
    """A client tool; server tools (web search, bash, code execution...) are refused."""
    tool = expect_object(item, path)
    kind = tool.get("type")
    if kind not in (None, "custom"):
        _refuse(f"{path}.type", f"the server tool {kind!r} runs only on Anthropic")
    carried = frozenset({"type", "name", "description", "input_schema", "strict"})
    _check_keys(tool, path, carried)
    description = tool.get("description")
    strict = tool.get("strict")
    if strict is not None and not isinstance(strict, bool):
        fail(f"{path}.strict", "expected a boolean")
    return Tool(
        name=expect_string(_required(tool, "name", path), f"{path}.name"),
        parameters=expect_object(_required(tool, "input_schema", path), f"{path}.input_schema"),
        description=None
        if description is None
        else expect_string(description, f"{path}.description"),
        strict=strict,
    )


def _tool_choice(value: object) -> tuple[ToolChoice | None, bool | None]:
    """The choice, and `parallel_tool_calls` False for `disable_parallel_tool_use: true`."""
    if value is None:
        return None, None
    choice = expect_object(value, "tool_choice")
    mode = _TOOL_CHOICE_MODES.get(str(choice.get("type")))
    if mode is None:
        fail("tool_choice.type", "expected 'auto', 'any', 'tool' or 'none'")
    named = mode == "tool"
    keys = {"type", "disable_parallel_tool_use"} | ({"name"} if named else set())
    _check_keys(choice, "tool_choice", frozenset(keys))
    name = (
        expect_string(_required(choice, "name", "tool_choice"), "tool_choice.name")
        if named
        else None
    )
    disable = choice.get("disable_parallel_tool_use")
    if disable is not None and not isinstance(disable, bool):
        fail("tool_choice.disable_parallel_tool_use", "expected a boolean")
    return ToolChoice(mode=mode, name=name), (False if disable else None)


def _effort(output_config: JSONObject | None) -> ReasoningEffort | None:
    value = None if output_config is None else output_config.get("effort")
    if value is None:
        return None
    effort = EFFORTS.get(str(value)) if isinstance(value, str) else None
    if effort is None:
        fail("output_config.effort", "expected 'low', 'medium', 'high', 'xhigh' or 'max'")
    return effort


def _reasoning(
    thinking: object, output_config: JSONObject | None, max_tokens: int
) -> Reasoning | None:
    """`thinking` and `output_config.effort` as one canonical reasoning request.

    enabled -> the budget (and the effort when stated); adaptive -> the stated effort, or
    `ADAPTIVE_THINKING_EFFORT`; disabled -> None (an effort alongside it asks for no
    reasoning the canonical form can express); absent -> the effort alone, if any.
    """
    effort = _effort(output_config)
    if thinking is None:
        return None if effort is None else Reasoning(effort=effort)
    config = expect_object(thinking, "thinking")
    kind = config.get("type")
    if kind == "between_tools":
        _refuse("thinking.type", "thinking only between tool calls exists only on Anthropic")
    if kind not in ("enabled", "adaptive", "disabled"):
        fail("thinking.type", "expected 'enabled', 'adaptive' or 'disabled'")
    enabled = kind == "enabled"
    _check_keys(config, "thinking", frozenset({"type", "budget_tokens"} if enabled else {"type"}))
    if kind == "disabled":
        return None
    if kind == "adaptive":
        return Reasoning(effort=effort or ADAPTIVE_THINKING_EFFORT)
    return Reasoning(effort=effort, budget_tokens=_thinking_budget(config, max_tokens))


def _thinking_budget(config: JSONObject, max_tokens: int) -> int:
    """`budget_tokens`: at least 1024 and below `max_tokens` (WIRE-FORMATS 3.2)."""
    value = _required(config, "budget_tokens", "thinking")
    if isinstance(value, bool) or not isinstance(value, int):
        fail("thinking.budget_tokens", "expected an integer")
    if value < _MIN_THINKING_BUDGET:
        fail("thinking.budget_tokens", f"must be at least {_MIN_THINKING_BUDGET}")
    if value >= max_tokens:
        fail("thinking.budget_tokens", "must be less than max_tokens")
    return value


def _response_format(output_config: JSONObject | None) -> ResponseFormat | None:
    """`output_config.format` `{"type": "json_schema", "schema"}` (WIRE-FORMATS 6.1)."""
    if output_config is None:
        return None
    _check_keys(output_config, "output_config", frozenset({"effort", "format"}))
    value = output_config.get("format")
    if value is None:
        return None
    output_format = expect_object(value, "output_config.format")
    if output_format.get("type") != "json_schema":
        fail("output_config.format.type", "expected 'json_schema'")
    _check_keys(output_format, "output_config.format", frozenset({"type", "schema"}))
    schema = _required(output_format, "schema", "output_config.format")
    return ResponseFormat(
        kind="json_schema", schema=expect_object(schema, "output_config.format.schema")
    )


def _user(metadata: object) -> str | None:
    """`metadata.user_id`, the end user's id; other metadata keys are refused."""
    if metadata is None:
        return None
    fields = expect_object(metadata, "metadata")
    _check_keys(fields, "metadata", frozenset({"user_id"}))
    user_id = fields.get("user_id")
    return None if user_id is None else expect_string(user_id, "metadata.user_id")
