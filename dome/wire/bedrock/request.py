"""The canonical request to a Bedrock Converse body (`POST /model/{modelId}/converse`).

Pure. The model goes in the URL path and streaming is chosen by the path
(`/converse-stream`), so the body carries neither. The rules (WIRE-FORMATS 4.2, 6.1,
pitfalls 6 and 7):

* System turns, wherever they stand, are hoisted in order into `system: [{text}]`.
* Consecutive turns of one role merge (Converse requires alternation); in a user turn
  the tool results come first. Empty text blocks and empty turns are dropped.
* Tool call ids are rewritten into Converse's charset (`bedrock_tool_id`); arguments
  "" become `{}`; other arguments must be a JSON object.
* Images travel as base64 `bytes` with a `format` (png, jpeg, gif, webp); Converse
  takes no URL other than `data:` URLs (S3 locations are not a canonical concept).
* Thinking blocks without a signature (another provider's reasoning) are dropped.
* Reasoning, `top_k`: only for Anthropic models, through `additionalModelRequestFields`
  (`thinking`, `top_k`), with the `max_tokens` and sampling rules of the Anthropic
  encoder, which this module consults so both hosts of Claude behave alike.
* Refused (`UnsupportedError`): `temperature` outside 0-1, `tool_choice` none while the
  history holds tool blocks (Converse has no "none" and requires `toolConfig` then),
  tool blocks in the history with no tools defined, `parallel_tool_calls` false,
  `response_format` json_object, reasoning or `top_k` for a non-Anthropic model.
* Not carried: an image's `detail`, a tool's `strict`, `user`, `include_usage`
  (Converse always reports usage).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import replace

import orjson

from dome.errors import InvalidRequestError, UnsupportedError
from dome.wire import anthropic as anthropic_wire
from dome.wire.canonical import (
    ImageBlock,
    Message,
    Request,
    RequestBlock,
    ResponseFormat,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCallBlock,
    ToolResultBlock,
)
from dome.wire.turns import Block, Turn, arguments_object, hoisted_turns

IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
"""Media types Converse's `image.format` names (WIRE-FORMATS 4.2)."""

EMPTY_INPUT_SCHEMA: dict[str, object] = {"type": "object", "properties": {}}

_TOOL_ID = re.compile(r"[a-zA-Z0-9_.:-]{1,64}")
_TOOL_ID_INVALID = re.compile(r"[^a-zA-Z0-9_.:-]")


def is_anthropic_model(model: str) -> bool:
    """True for Claude on Bedrock: `anthropic.claude-...`, `us.anthropic...`, ARNs of them."""
    return "anthropic." in model


def bedrock_tool_id(tool_call_id: str) -> str:
    """`tool_call_id` when Converse accepts it, else a deterministic valid rewrite."""
    if _TOOL_ID.fullmatch(tool_call_id):
        return tool_call_id
    digest = hashlib.sha256(tool_call_id.encode()).hexdigest()[:8]
    return f"{_TOOL_ID_INVALID.sub('_', tool_call_id)[:55]}_{digest}"


def encode_converse_request(request: Request, model: str) -> dict[str, object]:
    """The Converse JSON body for `request`; `model` is the Bedrock model id (path only).

    Raises:
        InvalidRequestError: tool arguments are not a JSON object, or nothing but system
            turns would be sent.
        UnsupportedError: the request needs something Converse cannot carry; `param`
            names it.
    """
    system, turns = hoisted_turns(request.messages, _system_blocks, _block)
    body: dict[str, object] = {
        "messages": [{"role": role, "content": _ordered(role, blocks)} for role, blocks in turns]
    }
    if system:
        body["system"] = system
    additional, max_tokens = _anthropic_fields(request, model)
    inference = _inference_config(request, max_tokens)
    if inference:
        body["inferenceConfig"] = inference
    tool_config = _tool_config(request, turns)
    if tool_config is not None:
        body["toolConfig"] = tool_config
    if additional:
        body["additionalModelRequestFields"] = additional
    if request.response_format is not None:
        body["outputConfig"] = {"textFormat": _text_format(request.response_format)}
    return body


def _anthropic_fields(request: Request, model: str) -> tuple[Block, int | None]:
    """(additionalModelRequestFields, maxTokens) for reasoning and top_k.

    For Claude the Anthropic encoder decides (thinking budget, max_tokens, sampling
    limits with thinking on); other models take neither field.
    """
    wants_reasoning = _wants_reasoning(request)
    if not is_anthropic_model(model):
        if wants_reasoning:
            message = (
                f"reasoning: Bedrock Converse carries it only for Anthropic models, not {model}"
            )
            raise UnsupportedError(message, param="reasoning_effort")
        if request.top_k is not None:
            message = f"top_k: Bedrock Converse carries it only for Anthropic models, not {model}"
            raise UnsupportedError(message, param="top_k")
        return {}, request.max_tokens
    if not wants_reasoning and request.top_k is None:
        return {}, request.max_tokens
    default = anthropic_wire.default_max_tokens(model)
    # Only reasoning, sampling and max_tokens matter to what is lifted from the result.
    probe = replace(request, response_format=None, tools=(), tool_choice=None)
    encoded = anthropic_wire.encode_messages_request(probe, model, default_max_tokens=default)
    additional: Block = {}
    if "thinking" in encoded:
        additional["thinking"] = encoded["thinking"]
        _check_tool_choice_with_thinking(request)
    if "top_k" in encoded:
        additional["top_k"] = encoded["top_k"]
    max_tokens = encoded["max_tokens"] if "thinking" in encoded else request.max_tokens
    return additional, max_tokens if isinstance(max_tokens, int) else None


def _wants_reasoning(request: Request) -> bool:
    reasoning = request.reasoning
    if reasoning is None:
        return False
    if reasoning.budget_tokens is not None:
        return reasoning.budget_tokens > 0
    return reasoning.effort not in (None, "none")


def _check_tool_choice_with_thinking(request: Request) -> None:
    choice = request.tool_choice
    if request.tools and choice is not None and choice.mode in ("any", "tool"):
        message = "tool_choice: with reasoning on, Anthropic accepts only auto or none"
        raise UnsupportedError(message, param="tool_choice")


def _inference_config(request: Request, max_tokens: int | None) -> Block:
    config: Block = {}
    if max_tokens is not None:
        config["maxTokens"] = max_tokens
    if request.temperature is not None:
        if not 0 <= request.temperature <= 1:
            message = f"temperature: Bedrock accepts 0 to 1, not {request.temperature}"
            raise UnsupportedError(message, param="temperature")
        config["temperature"] = request.temperature
    if request.top_p is not None:
        config["topP"] = request.top_p
    if request.stop:
        config["stopSequences"] = list(request.stop)
    return config


def _tool_config(request: Request, turns: Sequence[Turn]) -> Block | None:
    """toolConfig, which Converse requires whenever the history holds tool blocks."""
    has_tool_blocks = any(
        "toolUse" in block or "toolResult" in block for _, blocks in turns for block in blocks
    )
    choice = request.tool_choice
    if choice is not None and choice.mode == "none":
        if has_tool_blocks:
            message = (
                "tool_choice: Bedrock Converse has no 'none' and needs the tools defined "
                "while the history holds tool calls"
            )
            raise UnsupportedError(message, param="tool_choice")
        return None  # no tools sent: the model cannot call any
    if not request.tools:
        if choice is not None and choice.mode in ("any", "tool"):
            message = "tool_choice: asks for a tool call but the request defines no tools"
            raise InvalidRequestError(message, param="tool_choice")
        if has_tool_blocks:
            message = (
                "tools: Bedrock Converse needs the tools defined when the history holds tool calls"
            )
            raise UnsupportedError(message, param="tools")
        return None
    if request.parallel_tool_calls is False:
        message = "parallel_tool_calls: Bedrock Converse cannot limit a turn to one tool call"
        raise UnsupportedError(message, param="parallel_tool_calls")
    config: Block = {"tools": [_tool(tool) for tool in request.tools]}
    if choice is not None:
        if choice.mode == "tool":
            if not choice.name:
                raise InvalidRequestError("tool_choice: names no tool", param="tool_choice")
            config["toolChoice"] = {"tool": {"name": choice.name}}
        else:
            config["toolChoice"] = {choice.mode: {}}
    return config


def _tool(tool: Tool) -> Block:
    spec: Block = {
        "name": tool.name,
        "inputSchema": {"json": dict(tool.parameters) or EMPTY_INPUT_SCHEMA},
    }
    if tool.description:
        spec["description"] = tool.description
    return {"toolSpec": spec}


def _text_format(response_format: ResponseFormat) -> Block:
    if response_format.kind == "json_object":
        message = (
            "response_format: Bedrock Converse has no JSON mode without a schema; "
            "use json_schema with a schema instead"
        )
        raise UnsupportedError(message, param="response_format")
    if response_format.schema is None:
        raise InvalidRequestError(
            "response_format: json_schema needs a schema", param="response_format"
        )
    schema: Block = {"schema": orjson.dumps(dict(response_format.schema)).decode()}
    if response_format.name:
        schema["name"] = response_format.name
    return {"type": "json_schema", "structure": {"jsonSchema": schema}}


def _ordered(role: str, blocks: list[Block]) -> list[Block]:
    """Tool results first in a user turn, as after Anthropic's tool_use (stable)."""
    if role != "user":
        return blocks
    return sorted(blocks, key=lambda block: "toolResult" not in block)


def _system_blocks(message: Message, path: str) -> list[Block]:
    blocks: list[Block] = []
    for j, block in enumerate(message.content):
        if not isinstance(block, TextBlock):
            param = f"{path}.content.{j}"
            raise UnsupportedError(f"{param}: Bedrock system prompts hold text only", param=param)
        if block.text:
            blocks.append({"text": block.text})
    return blocks


def _block(block: RequestBlock, path: str) -> Block | None:
    """The Converse content block for `block`, or None for one that says nothing."""
    match block:
        case TextBlock(text=text):
            return {"text": text} if text else None
        case ImageBlock():
            return {"image": _image(block, path)}
        case ToolCallBlock(id=call_id, name=name, arguments=arguments):
            tool_input = arguments_object(arguments, f"{path}.arguments")
            return {
                "toolUse": {
                    "toolUseId": bedrock_tool_id(call_id),
                    "name": name,
                    "input": tool_input,
                }
            }
        case ToolResultBlock():
            return {"toolResult": _tool_result(block, path)}
        case ThinkingBlock(text=text, signature=signature):
            if not signature:
                return None
            return {"reasoningContent": {"reasoningText": {"text": text, "signature": signature}}}
        case _:  # RedactedThinkingBlock
            return {"reasoningContent": {"redactedContent": block.data}}


def _tool_result(block: ToolResultBlock, path: str) -> Block:
    content: list[Block] = []
    for k, item in enumerate(block.content):
        if isinstance(item, TextBlock):
            if item.text:
                content.append({"text": item.text})
        else:
            content.append({"image": _image(item, f"{path}.content.{k}")})
    return {
        "toolUseId": bedrock_tool_id(block.tool_call_id),
        # Converse requires content; an empty result is an empty text.
        "content": content or [{"text": ""}],
        "status": "error" if block.is_error else "success",
    }


def _image(block: ImageBlock, path: str) -> Block:
    """Base64 bytes with their format; a `data:` URL is unpacked, other URLs refused."""
    data, media_type = block.data, block.media_type
    if block.url is not None:
        if not block.url.startswith("data:"):
            message = f"{path}: Bedrock Converse takes images as data, not by URL"
            raise UnsupportedError(message, param=path)
        media_type, _, data = block.url.removeprefix("data:").partition(";base64,")
    if not data:
        raise InvalidRequestError(f"{path}: an image needs data or a URL", param=path)
    image_format = IMAGE_FORMATS.get(media_type or "")
    if image_format is None:
        accepted = ", ".join(sorted(IMAGE_FORMATS))
        message = f"{path}: Bedrock accepts images as {accepted}, not {media_type}"
        raise UnsupportedError(message, param=path)
    return {"format": image_format, "source": {"bytes": data}}
