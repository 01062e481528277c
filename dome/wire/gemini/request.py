"""Canonical requests to Gemini `generateContent` bodies (WIRE-FORMATS 5.2, 6.1).

Pure: builds the JSON body only; the model travels in the URL path, so the body
names none. What Gemini cannot carry is refused with `UnsupportedError` naming the field.

Decisions:
* System turns, wherever they stand, join into one `systemInstruction` (Gemini has
  no system role in `contents`). Consecutive turns of one role merge into one content.
* Tool results: Gemini matches a `functionResponse` to its `functionCall` by *name*
  and, for repeated calls of one function, by order (WIRE-FORMATS 5.2: all responses
  to one model turn go in one user content, as many parts as there were calls). The
  canonical call id is resolved to its name through the calls earlier in the
  conversation, and the responses of one content are put in the order of their calls.
  Ids are never sent: Gemini's own ids are optional and ours (or another format's)
  would mean nothing to it.
* A result's text goes in `response: {"output": text}`, or `{"error": text}` when the
  tool failed (`response` must be an object).
* Thinking blocks go back as `thought` parts with their `thoughtSignature`. An empty
  thinking block carrying only a signature (how `decode` keeps a signature Gemini put
  on a text or functionCall part) puts the signature back on the part that follows.
  Redacted thinking is Anthropic's encryption and means nothing to Gemini: not sent.
* Images: base64 -> `inlineData`; a URL -> `fileData` with the media type guessed
  from the path (refused when the path names no image type). OpenAI's `detail` hint
  has no per-part equivalent and is not carried.
* Tools carry their JSON Schema as `parametersJsonSchema` (full JSON Schema; the
  OpenAPI-subset `parameters` rejects keywords agents use). `strict` is not carried.
* Reasoning: a budget, or an effort converted with `budget_for_effort`, becomes
  `thinkingConfig.thinkingBudget` with `includeThoughts`; effort "none" sends budget 0.
* Not carried: `user` (Vertex `labels` are billing labels with a restricted charset),
  `include_usage` (Gemini streams always carry usage). Refused:
  `parallel_tool_calls: false` (Gemini cannot be held to one call), images in tool results.
"""

from __future__ import annotations

import mimetypes
import urllib.parse

import orjson

from dome.errors import InvalidRequestError, UnsupportedError
from dome.wire.canonical import (
    ImageBlock,
    Message,
    Reasoning,
    RedactedThinkingBlock,
    Request,
    RequestBlock,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCallBlock,
    ToolChoice,
    ToolResultBlock,
    budget_for_effort,
)

Part = dict[str, object]
Content = dict[str, object]
_Placed = tuple[int | None, Part]  # a part, with its call's position if it is a response

_ROLES = {"user": "user", "assistant": "model"}

# tool_choice modes (WIRE-FORMATS 6.1 "tool choice" rows).
_CALLING_MODES = {"auto": "AUTO", "any": "ANY", "tool": "ANY", "none": "NONE"}


def encode_generate_content(request: Request) -> dict[str, object]:
    """The `generateContent` / `streamGenerateContent` body for `request`.

    Raises:
        UnsupportedError: the request needs something Gemini cannot do; `param` names it.
        InvalidRequestError: no user or assistant turn, or a tool result names a call
            the conversation does not hold.
    """
    if request.parallel_tool_calls is False:
        message = "Gemini cannot be limited to one tool call per turn"
        raise UnsupportedError(message, param="parallel_tool_calls")
    contents = _contents(request.messages)
    if not contents:
        message = "Gemini needs at least one user or assistant message"
        raise InvalidRequestError(message, param="messages")
    body: dict[str, object] = {"contents": contents}
    system = [
        {"text": block.text}
        for message in request.messages
        if message.role == "system"
        for block in message.content
        if isinstance(block, TextBlock)
    ]
    if system:
        body["systemInstruction"] = {"parts": system}
    if request.tools:
        body["tools"] = [{"functionDeclarations": [_declaration(t) for t in request.tools]}]
    if request.tool_choice is not None:
        body["toolConfig"] = {"functionCallingConfig": _calling_config(request.tool_choice)}
    config = _generation_config(request)
    if config:
        body["generationConfig"] = config
    return body


def _contents(messages: tuple[Message, ...]) -> list[Content]:
    calls = _call_positions(messages)
    grouped: list[tuple[str, list[_Placed]]] = []
    for message in messages:
        if message.role == "system":
            continue
        role = _ROLES[message.role]
        placed = _parts(message.content, calls)
        if not placed:
            continue  # only redacted thinking: Gemini refuses contents without parts
        if grouped and grouped[-1][0] == role:
            grouped[-1][1].extend(placed)
        else:
            grouped.append((role, placed))
    return [{"role": role, "parts": _results_first(placed)} for role, placed in grouped]


def _call_positions(messages: tuple[Message, ...]) -> dict[str, tuple[str, int]]:
    """Tool call id -> (function name, position among all calls of the conversation)."""
    calls: dict[str, tuple[str, int]] = {}
    for message in messages:
        for block in message.content:
            if isinstance(block, ToolCallBlock):
                calls[block.id] = (block.name, len(calls))
    return calls


def _results_first(placed: list[_Placed]) -> list[Part]:
    """Function responses first, in the order of their calls; other parts after."""
    results = sorted((p for p in placed if p[0] is not None), key=lambda p: p[0] or 0)
    others = [part for position, part in placed if position is None]
    return [part for _, part in results] + others


def _parts(blocks: tuple[RequestBlock, ...], calls: dict[str, tuple[str, int]]) -> list[_Placed]:
    """Each block's part, with its call's position when it is a function response."""
    placed: list[_Placed] = []
    signature: str | None = None  # from an empty thinking block, for the next part
    for block in blocks:
        if isinstance(block, RedactedThinkingBlock):
            continue
        if isinstance(block, ThinkingBlock) and not block.text:
            signature = block.signature or None
            continue
        if isinstance(block, ToolResultBlock):
            part, position = _function_response(block, calls)
            placed.append((position, part))
            continue
        part = _part(block)
        if signature is not None:
            part["thoughtSignature"] = signature
            signature = None
        placed.append((None, part))
    if signature is not None:  # signed a part with no content, as Gemini does at the end
        placed.append((None, {"text": "", "thoughtSignature": signature}))
    return placed


def _part(block: TextBlock | ThinkingBlock | ToolCallBlock | ImageBlock) -> Part:
    match block:
        case TextBlock(text=text):
            return {"text": text}
        case ThinkingBlock(text=text, signature=signature):
            part: Part = {"text": text, "thought": True}
            if signature:
                part["thoughtSignature"] = signature
            return part
        case ToolCallBlock(name=name, arguments=arguments):
            return {"functionCall": {"name": name, "args": _arguments(arguments)}}
        case ImageBlock():
            return _image(block)


def _arguments(arguments: str) -> object:
    """A call's JSON text as the object `functionCall.args` must be."""
    try:
        parsed = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError as exc:
        message = "a tool call's arguments are not valid JSON"
        raise InvalidRequestError(message, param="messages") from exc
    if not isinstance(parsed, dict):
        message = "Gemini takes tool call arguments only as a JSON object"
        raise UnsupportedError(message, param="messages")
    return parsed


def _image(block: ImageBlock) -> Part:
    if block.data is not None:
        mime = block.media_type or "application/octet-stream"
        return {"inlineData": {"mimeType": mime, "data": block.data}}
    url = block.url or ""
    guessed, _ = mimetypes.guess_type(urllib.parse.urlsplit(url).path)
    if guessed is None or not guessed.startswith("image/"):
        message = "Gemini needs an image URL's type: send the image as base64 data instead"
        raise UnsupportedError(message, param="messages")
    return {"fileData": {"mimeType": guessed, "fileUri": url}}


def _function_response(
    block: ToolResultBlock, calls: dict[str, tuple[str, int]]
) -> tuple[Part, int]:
    if block.tool_call_id not in calls:
        message = f"tool result {block.tool_call_id!r} answers no tool call of the conversation"
        raise InvalidRequestError(message, param="messages")
    if any(isinstance(item, ImageBlock) for item in block.content):
        message = "Gemini cannot carry images in tool results"
        raise UnsupportedError(message, param="messages")
    name, position = calls[block.tool_call_id]
    text = "".join(item.text for item in block.content if isinstance(item, TextBlock))
    key = "error" if block.is_error else "output"
    return {"functionResponse": {"name": name, "response": {key: text}}}, position


def _declaration(tool: Tool) -> dict[str, object]:
    declaration: dict[str, object] = {"name": tool.name}
    if tool.description is not None:
        declaration["description"] = tool.description
    declaration["parametersJsonSchema"] = dict(tool.parameters)
    return declaration


def _calling_config(choice: ToolChoice) -> dict[str, object]:
    config: dict[str, object] = {"mode": _CALLING_MODES[choice.mode]}
    if choice.mode == "tool":
        config["allowedFunctionNames"] = [choice.name]
    return config


def _generation_config(request: Request) -> dict[str, object]:
    config: dict[str, object] = {}
    if request.max_tokens is not None:
        config["maxOutputTokens"] = request.max_tokens
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.top_p is not None:
        config["topP"] = request.top_p
    if request.top_k is not None:
        config["topK"] = request.top_k
    if request.stop:
        config["stopSequences"] = list(request.stop)
    if request.response_format is not None:
        config["responseMimeType"] = "application/json"
        if request.response_format.schema is not None:
            config["responseJsonSchema"] = dict(request.response_format.schema)
    if request.reasoning is not None:
        config["thinkingConfig"] = _thinking_config(request.reasoning)
    return config


def _thinking_config(reasoning: Reasoning) -> dict[str, object]:
    budget = reasoning.budget_tokens
    if budget is None and reasoning.effort is not None:
        budget = budget_for_effort(reasoning.effort)
        if budget is None:  # effort "none": thinking off
            return {"thinkingBudget": 0}
    if budget is None:
        return {"includeThoughts": True}
    return {"thinkingBudget": budget, "includeThoughts": True}
