"""The canonical request to an Anthropic Messages body, for an Anthropic upstream.

Pure. The rules (WIRE-FORMATS 3.2, 6.1, pitfalls 6 and 8; docs/translation.md):

* System turns, wherever they stand, are hoisted in order into the top-level `system`
  as text blocks: Anthropic has no other place for them. They must hold only text.
* Consecutive turns of one role merge into one message; in a user message the tool
  results come first (OpenAI sends one `tool` message per result, Anthropic wants all
  of them in the one user message after the `tool_use` blocks).
* Empty text blocks, and turns left empty, are dropped: Anthropic rejects them.
* Tool call ids are rewritten into Anthropic's charset (`anthropic_tool_id`).
* Tool arguments "" (or blank) become `{}` (pitfall 6); other arguments must be a JSON
  object (`InvalidRequestError` naming the path otherwise).
* Thinking blocks without a signature (another provider's reasoning) are dropped:
  Anthropic verifies signatures and ignores the thinking of earlier turns anyway.
* Not carried, because Anthropic has no such field: an image's `detail`, a JSON
  schema's `name` and `strict` (Anthropic always follows the schema), `include_usage`
  (Anthropic always reports usage). `tool_choice` and `parallel_tool_calls` are left
  out when there are no tools (nothing to choose from); with `tool_choice` none,
  `disable_parallel_tool_use` is left out (Anthropic's `none` takes no flag).
* Refused (`UnsupportedError`): `temperature` outside 0-1 (OpenAI allows up to 2),
  `response_format` json_object (Anthropic has no schema-less JSON mode).

Reasoning becomes `thinking: {"type": "enabled", "budget_tokens": B}`:

* B is `reasoning.budget_tokens` when stated (0 means off), else `budget_for_effort`
  of the effort ("none": no thinking), raised to Anthropic's minimum of 1024.
* `max_tokens` must exceed B. Without a caller `max_tokens` it is `default_max_tokens`,
  or B + `default_max_tokens` when the default is not above B. With the caller's own
  `max_tokens` M <= B: a budget derived from an effort shrinks to M - 1 (like OpenAI,
  whose output cap includes reasoning); a stated budget, or M - 1 below 1024, is
  refused (`UnsupportedError`, param `max_tokens`).
* With thinking on, Anthropic requires `temperature` unset or 1, no `top_k`, `top_p`
  unset or >= 0.95, and `tool_choice` auto or none: anything else is refused.
* A tool loop whose last assistant turn does not start with a signed thinking block
  (history from a client that keeps none, such as any OpenAI client) continues with
  thinking off: Anthropic refuses thinking there and tells clients to disable it.
"""

from __future__ import annotations

from collections.abc import Sequence

from dome.errors import InvalidRequestError, UnsupportedError
from dome.wire.anthropic.request_fields import IMAGE_MEDIA_TYPES
from dome.wire.anthropic.tool_ids import anthropic_tool_id
from dome.wire.canonical import (
    ImageBlock,
    Message,
    Reasoning,
    RedactedThinkingBlock,
    Request,
    RequestBlock,
    ResponseFormat,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCallBlock,
    ToolResultBlock,
    budget_for_effort,
)
from dome.wire.turns import Block, Turn, arguments_object, hoisted_turns

MIN_THINKING_BUDGET = 1024
"""Anthropic's smallest `budget_tokens`; smaller budgets are raised to it."""

THINKING_TOP_P_FLOOR = 0.95
"""With thinking on, Anthropic accepts `top_p` only from 0.95 to 1."""

EMPTY_INPUT_SCHEMA: dict[str, object] = {"type": "object", "properties": {}}
"""For a tool without parameters: Anthropic requires `input_schema` even then."""


def encode_messages_request(
    request: Request, model: str, *, default_max_tokens: int
) -> dict[str, object]:
    """The `POST /v1/messages` body for `request`; `model` is the provider's model id.

    `default_max_tokens` (see `default_max_tokens()`) applies when the caller gave none.

    Raises:
        InvalidRequestError: tool arguments in the history are not a JSON object, or the
            request has nothing but system turns.
        UnsupportedError: the request needs something Anthropic cannot do; `param` names it.
    """
    system, turns = hoisted_turns(request.messages, _system_blocks, _block)
    reasoning = request.reasoning if _can_think(turns) else None
    max_tokens, budget = _max_tokens_and_budget(request.max_tokens, reasoning, default_max_tokens)
    thinking = budget is not None
    messages = [{"role": role, "content": _ordered(role, blocks)} for role, blocks in turns]
    body: dict[str, object] = {"model": model, "max_tokens": max_tokens, "messages": messages}
    if system:
        body["system"] = system
    body.update(_sampling(request, thinking=thinking))
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.tools:
        body["tools"] = [_tool(tool) for tool in request.tools]
    tool_choice = _tool_choice(request, thinking=thinking)
    if tool_choice is not None:
        body["tool_choice"] = tool_choice
    if budget is not None:
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}
    if request.response_format is not None:
        body["output_config"] = {"format": _output_format(request.response_format)}
    if request.user is not None:
        body["metadata"] = {"user_id": request.user}
    if request.stream:
        body["stream"] = True
    return body


def _thinking_budget(reasoning: Reasoning | None) -> tuple[int, bool] | None:
    """(budget, stated by the caller) or None when thinking stays off."""
    if reasoning is None:
        return None
    if reasoning.budget_tokens is not None:
        if reasoning.budget_tokens <= 0:
            return None
        return max(reasoning.budget_tokens, MIN_THINKING_BUDGET), True
    budget = None if reasoning.effort is None else budget_for_effort(reasoning.effort)
    return None if budget is None else (max(budget, MIN_THINKING_BUDGET), False)


def _can_think(turns: Sequence[Turn]) -> bool:
    """False when Anthropic would refuse thinking for this conversation.

    With thinking on, a final assistant message holding tool calls must start with its
    signed thinking block ("To avoid this requirement, disable `thinking`", says the
    API). Clients that keep no thinking blocks (every OpenAI client) continue such a
    tool loop with thinking off.
    """
    last = next((blocks for role, blocks in reversed(turns) if role == "assistant"), None)
    if last is None or not any(block["type"] == "tool_use" for block in last):
        return True
    return last[0]["type"] in ("thinking", "redacted_thinking")


def _max_tokens_and_budget(
    asked: int | None, reasoning: Reasoning | None, default: int
) -> tuple[int, int | None]:
    """`max_tokens` and the thinking budget (None: off); `max_tokens` > budget always."""
    wanted = _thinking_budget(reasoning)
    if wanted is None:
        return (default if asked is None else asked), None
    budget, stated = wanted
    if asked is None:
        return (default if default > budget else budget + default), budget
    if budget < asked:
        return asked, budget
    if not stated and asked - 1 >= MIN_THINKING_BUDGET:
        return asked, asked - 1
    message = (
        f"max_tokens: {asked} leaves no room for Anthropic's thinking budget of {budget} "
        f"tokens (max_tokens must be larger, and the budget at least {MIN_THINKING_BUDGET}); "
        "raise max_tokens or ask for less reasoning"
    )
    raise UnsupportedError(message, param="max_tokens")


def _sampling(request: Request, *, thinking: bool) -> dict[str, object]:
    """temperature, top_p, top_k, within what Anthropic accepts (WIRE-FORMATS 6.1)."""
    sampling: dict[str, object] = {}
    temperature = request.temperature
    if temperature is not None:
        if not 0 <= temperature <= 1:
            message = f"temperature: Anthropic accepts 0 to 1, not {temperature}"
            raise UnsupportedError(message, param="temperature")
        if thinking and temperature != 1:
            message = "temperature: with reasoning on, Anthropic accepts only 1 (or none)"
            raise UnsupportedError(message, param="temperature")
        sampling["temperature"] = temperature
    if request.top_p is not None:
        if thinking and request.top_p < THINKING_TOP_P_FLOOR:
            message = f"top_p: with reasoning on, Anthropic accepts {THINKING_TOP_P_FLOOR} to 1"
            raise UnsupportedError(message, param="top_p")
        sampling["top_p"] = request.top_p
    if request.top_k is not None:
        if thinking:
            message = "top_k: Anthropic does not accept top_k with reasoning on"
            raise UnsupportedError(message, param="top_k")
        sampling["top_k"] = request.top_k
    return sampling


def _tool_choice(request: Request, *, thinking: bool) -> Block | None:
    choice = request.tool_choice
    if not request.tools:
        if choice is not None and choice.mode in ("any", "tool"):
            message = "tool_choice: asks for a tool call but the request defines no tools"
            raise InvalidRequestError(message, param="tool_choice")
        return None
    if thinking and choice is not None and choice.mode in ("any", "tool"):
        message = "tool_choice: with reasoning on, Anthropic accepts only auto or none"
        raise UnsupportedError(message, param="tool_choice")
    if choice is None and request.parallel_tool_calls is not False:
        return None
    mode = "auto" if choice is None else choice.mode
    encoded: Block = {"type": mode}
    if choice is not None and choice.mode == "tool":
        if not choice.name:
            raise InvalidRequestError("tool_choice: names no tool", param="tool_choice")
        encoded["name"] = choice.name
    if request.parallel_tool_calls is False and mode != "none":
        encoded["disable_parallel_tool_use"] = True
    return encoded


def _tool(tool: Tool) -> Block:
    encoded: Block = {
        "name": tool.name,
        "input_schema": dict(tool.parameters) or EMPTY_INPUT_SCHEMA,
    }
    if tool.description is not None:
        encoded["description"] = tool.description
    if tool.strict is not None:
        encoded["strict"] = tool.strict
    return encoded


def _output_format(response_format: ResponseFormat) -> Block:
    if response_format.kind == "json_object":
        message = (
            "response_format: Anthropic has no JSON mode without a schema; "
            "use json_schema with a schema instead"
        )
        raise UnsupportedError(message, param="response_format")
    if response_format.schema is None:
        message = "response_format: json_schema needs a schema"
        raise InvalidRequestError(message, param="response_format")
    return {"type": "json_schema", "schema": dict(response_format.schema)}


def _ordered(role: str, blocks: list[Block]) -> list[Block]:
    """In a user message the tool results come first (WIRE-FORMATS 3.2); stable."""
    if role != "user":
        return blocks
    return sorted(blocks, key=lambda block: block["type"] != "tool_result")


def _system_blocks(message: Message, path: str) -> list[Block]:
    blocks: list[Block] = []
    for j, block in enumerate(message.content):
        if not isinstance(block, TextBlock):
            param = f"{path}.content.{j}"
            message_text = f"{param}: Anthropic system prompts hold text only"
            raise UnsupportedError(message_text, param=param)
        if block.text:
            blocks.append({"type": "text", "text": block.text})
    return blocks


def _block(block: RequestBlock, path: str) -> Block | None:
    """The Anthropic block for `block`, or None for a block that says nothing."""
    match block:
        case TextBlock(text=text):
            return {"type": "text", "text": text} if text else None
        case ImageBlock():
            return _image(block, path)
        case ToolCallBlock(id=call_id, name=name, arguments=arguments):
            tool_input = arguments_object(arguments, f"{path}.arguments")
            return {
                "type": "tool_use",
                "id": anthropic_tool_id(call_id),
                "name": name,
                "input": tool_input,
            }
        case ToolResultBlock():
            return _tool_result(block, path)
        case ThinkingBlock(text=text, signature=signature):
            return (
                {"type": "thinking", "thinking": text, "signature": signature}
                if signature
                else None
            )
        case RedactedThinkingBlock(data=data):
            return {"type": "redacted_thinking", "data": data}


def _tool_result(block: ToolResultBlock, path: str) -> Block:
    content = [
        encoded
        for k, item in enumerate(block.content)
        if (encoded := _block(item, f"{path}.content.{k}")) is not None
    ]
    encoded_block: Block = {
        "type": "tool_result",
        "tool_use_id": anthropic_tool_id(block.tool_call_id),
    }
    if content:
        encoded_block["content"] = content
    if block.is_error:
        encoded_block["is_error"] = True
    return encoded_block


def _image(block: ImageBlock, path: str) -> Block:
    """A url or base64 source; `detail` is OpenAI's and not carried."""
    data, media_type = block.data, block.media_type
    if block.url is not None:
        if not block.url.startswith("data:"):
            return {"type": "image", "source": {"type": "url", "url": block.url}}
        media_type, _, data = block.url.removeprefix("data:").partition(";base64,")
    if not data:
        raise InvalidRequestError(f"{path}: an image needs data or a URL", param=path)
    if media_type not in IMAGE_MEDIA_TYPES:
        accepted = ", ".join(sorted(IMAGE_MEDIA_TYPES))
        message = f"{path}: Anthropic accepts images as {accepted}, not {media_type}"
        raise UnsupportedError(message, param=path)
    source = {"type": "base64", "media_type": media_type, "data": data}
    return {"type": "image", "source": source}
