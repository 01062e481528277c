"""Chat Completions request options to and from canonical form: sampling, stop, tools,
tool choice, structured output, reasoning effort (WIRE-FORMATS 2.2, 6.1).

Pure; decoders name the path of a bad shape, encoders refuse what OpenAI cannot carry.
"""

from __future__ import annotations

from typing import Literal, get_args

from dome.errors import UnsupportedError
from dome.wire.canonical import (
    Reasoning,
    ReasoningEffort,
    ResponseFormat,
    Tool,
    ToolChoice,
    effort_for_budget,
)
from dome.wire.openai.fields import refuse_unknown
from dome.wire.shape import JSONObject, expect_array, expect_object, expect_string, fail

MAX_STOP_SEQUENCES = 4  # StopConfiguration maxItems in the OpenAI spec

_EFFORTS: dict[str, ReasoningEffort] = {effort: effort for effort in get_args(ReasoningEffort)}
_CHOICE_MODES: dict[str, Literal["auto", "any", "none"]] = {
    "auto": "auto",
    "required": "any",
    "none": "none",
}


def sampling_number(body: JSONObject, field: str, maximum: float) -> float | None:
    """temperature (0-2) or top_p (0-1)."""
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= maximum:
        fail(field, f"expected a number from 0 to {maximum:g}")
    return float(value)


def decode_stop(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    items = expect_array(value, "stop")
    return tuple(expect_string(item, f"stop.{i}") for i, item in enumerate(items))


def encode_stop(stop: tuple[str, ...]) -> list[str]:
    if len(stop) > MAX_STOP_SEQUENCES:
        message = f"stop: OpenAI takes at most {MAX_STOP_SEQUENCES} stop sequences"
        raise UnsupportedError(message, param="stop")
    return list(stop)


def decode_tools(value: object) -> tuple[Tool, ...]:
    if value is None:
        return ()
    items = expect_array(value, "tools")
    return tuple(_tool(item, f"tools.{i}") for i, item in enumerate(items))


def _tool(item: object, path: str) -> Tool:
    tool = expect_object(item, path)
    if tool.get("type") != "function":
        # Custom (free-form grammar) tools exist only at OpenAI.
        message = f"{path}.type: only function tools can be translated"
        raise UnsupportedError(message, param=f"{path}.type")
    refuse_unknown(tool, path, frozenset({"type", "function"}))
    function = expect_object(tool.get("function"), f"{path}.function")
    path = f"{path}.function"
    refuse_unknown(function, path, frozenset({"name", "description", "parameters", "strict"}))
    if "name" not in function:
        fail(f"{path}.name", "field required")
    description = function.get("description")
    strict = function.get("strict")
    if strict is not None and not isinstance(strict, bool):
        fail(f"{path}.strict", "expected a boolean")
    parameters = function.get("parameters")
    if parameters is None:  # "Omitting parameters defines ... an empty parameter list"
        parameters = {"type": "object", "properties": {}}
    return Tool(
        name=expect_string(function["name"], f"{path}.name"),
        parameters=expect_object(parameters, f"{path}.parameters"),
        description=None
        if description is None
        else expect_string(description, f"{path}.description"),
        strict=strict,
    )


def encode_tool(tool: Tool) -> dict[str, object]:
    function: dict[str, object] = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    function["parameters"] = dict(tool.parameters)
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def decode_tool_choice(value: object) -> ToolChoice | None:
    """ "auto", "required", "none" or one named function (WIRE-FORMATS 6.1)."""
    if value is None:
        return None
    if isinstance(value, str):
        mode = _CHOICE_MODES.get(value)
        if mode is None:
            fail("tool_choice", "expected auto, required, none or a function")
        return ToolChoice(mode)
    choice = expect_object(value, "tool_choice")
    if choice.get("type") != "function":
        # allowed_tools and custom-tool choices have no counterpart elsewhere.
        message = "tool_choice: only auto, required, none or one function can be translated"
        raise UnsupportedError(message, param="tool_choice")
    refuse_unknown(choice, "tool_choice", frozenset({"type", "function"}))
    function = expect_object(choice.get("function"), "tool_choice.function")
    refuse_unknown(function, "tool_choice.function", frozenset({"name"}))
    return ToolChoice("tool", expect_string(function.get("name"), "tool_choice.function.name"))


def encode_tool_choice(choice: ToolChoice) -> object:
    if choice.mode == "tool":
        return {"type": "function", "function": {"name": choice.name}}
    return {"auto": "auto", "any": "required", "none": "none"}[choice.mode]


def decode_response_format(value: object) -> ResponseFormat | None:
    """text is the default (None); json_object; json_schema{name, schema, strict}."""
    if value is None:
        return None
    spec = expect_object(value, "response_format")
    kind = spec.get("type")
    if kind == "text":
        refuse_unknown(spec, "response_format", frozenset({"type"}))
        return None
    if kind == "json_object":
        refuse_unknown(spec, "response_format", frozenset({"type"}))
        return ResponseFormat("json_object")
    if kind != "json_schema":
        fail("response_format.type", "expected text, json_object or json_schema")
    refuse_unknown(spec, "response_format", frozenset({"type", "json_schema"}))
    return _json_schema(expect_object(spec.get("json_schema"), "response_format.json_schema"))


def _json_schema(spec: JSONObject) -> ResponseFormat:
    path = "response_format.json_schema"
    # `description` guides the model, and no other provider has a place for it.
    refuse_unknown(spec, path, frozenset({"name", "schema", "strict"}))
    schema = spec.get("schema")
    strict = spec.get("strict")
    if strict is not None and not isinstance(strict, bool):
        fail(f"{path}.strict", "expected a boolean")
    return ResponseFormat(
        "json_schema",
        schema=None if schema is None else expect_object(schema, f"{path}.schema"),
        name=expect_string(spec.get("name"), f"{path}.name"),
        strict=strict,
    )


def encode_response_format(spec: ResponseFormat) -> dict[str, object]:
    if spec.kind == "json_object":
        return {"type": "json_object"}
    # `name` is required by OpenAI; other formats may not state one.
    json_schema: dict[str, object] = {"name": spec.name or "response"}
    if spec.schema is not None:
        json_schema["schema"] = dict(spec.schema)
    if spec.strict is not None:
        json_schema["strict"] = spec.strict
    return {"type": "json_schema", "json_schema": json_schema}


def decode_reasoning(value: object) -> Reasoning | None:
    if value is None:
        return None
    effort = expect_string(value, "reasoning_effort")
    if effort == "max":
        message = "reasoning_effort: 'max' cannot be translated; the highest is 'xhigh'"
        raise UnsupportedError(message, param="reasoning_effort")
    if effort not in _EFFORTS:
        fail("reasoning_effort", "expected none, minimal, low, medium, high or xhigh")
    return Reasoning(effort=_EFFORTS[effort])


def encode_reasoning(reasoning: Reasoning) -> ReasoningEffort | None:
    """The effort; a budget alone becomes the smallest effort that covers it."""
    if reasoning.effort is not None:
        return reasoning.effort
    if reasoning.budget_tokens is not None:
        return effort_for_budget(reasoning.budget_tokens)
    return None
