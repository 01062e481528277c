"""Chat Completions `messages` to and from canonical turns (WIRE-FORMATS 2.2, 6.1).

Decoding: system and developer messages become system turns where they stand; each
`tool` message becomes its own user turn holding one tool result. Encoding: a user turn
with tool results becomes one `tool` message per result, then a user message with the
rest. Message `name` fields, audio and file parts and legacy function messages are
refused; a prior `refusal` is the assistant's words and comes back as text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NoReturn

from dome.errors import UnsupportedError
from dome.wire.canonical import (
    ImageBlock,
    Message,
    RedactedThinkingBlock,
    RequestBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    ToolResultBlock,
)
from dome.wire.openai.fields import Untranslatable, refuse_unknown, refuse_unless_neutral
from dome.wire.openai.thinking import REASONING_FIELDS, decode_thinking
from dome.wire.shape import JSONObject, expect_array, expect_object, expect_string, fail

_NAME = {"name": Untranslatable("participant names cannot be translated")}
_ASSISTANT_REFUSED = {
    **_NAME,
    "audio": Untranslatable("audio replies cannot be translated"),
    "function_call": Untranslatable("legacy function calls cannot be translated; use tool_calls"),
}
# What clients echo back from a parsed answer: `annotations` (citations of OpenAI's
# own search) and the SDK's `parsed` copy of the content change nothing.
_ASSISTANT_FIELDS = frozenset(
    {"role", "content", "refusal", "tool_calls", "annotations", "parsed", "thinking_blocks"}
    | _ASSISTANT_REFUSED.keys()
    | set(REASONING_FIELDS)
)
_PART_TYPES_REFUSED = {
    "input_audio": "audio input cannot be translated",
    "file": "file inputs cannot be translated",
}
# prompt_cache_breakpoint is a caching hint: it never changes the answer.
_TEXT_PART = frozenset({"type", "text", "prompt_cache_breakpoint"})
_IMAGE_PART = frozenset({"type", "image_url", "prompt_cache_breakpoint"})
_DETAILS = frozenset({"auto", "low", "high"})


def decode_messages(items: list[object]) -> tuple[Message, ...]:
    if not items:
        fail("messages", "must not be empty")
    return tuple(_message(item, f"messages.{i}") for i, item in enumerate(items))


def _message(item: object, path: str) -> Message:
    message = expect_object(item, path)
    if "role" not in message:
        fail(f"{path}.role", "field required")
    role = expect_string(message["role"], f"{path}.role")
    if role == "function":
        text = "legacy function messages cannot be translated; use tool messages"
        raise UnsupportedError(f"{path}.role: {text}", param=f"{path}.role")
    decoder = _DECODERS.get(role)
    if decoder is None:
        fail(f"{path}.role", f"expected one of {', '.join(_DECODERS)}")
    return decoder(message, path)


def _system(message: JSONObject, path: str) -> Message:
    refuse_unknown(message, path, frozenset({"role", "content", "name"}))
    refuse_unless_neutral(message, path, _NAME)
    return Message("system", _text_content(_required_content(message, path), f"{path}.content"))


def _user(message: JSONObject, path: str) -> Message:
    refuse_unknown(message, path, frozenset({"role", "content", "name"}))
    refuse_unless_neutral(message, path, _NAME)
    content = _required_content(message, path)
    if isinstance(content, str):
        return Message("user", (TextBlock(content),))
    parts = _parts(content, f"{path}.content")
    return Message("user", tuple(_user_part(p, f"{path}.content.{i}") for i, p in enumerate(parts)))


def _tool(message: JSONObject, path: str) -> Message:
    """One tool message is one user turn holding its result; results are never merged."""
    refuse_unknown(message, path, frozenset({"role", "content", "tool_call_id"}))
    if "tool_call_id" not in message:
        fail(f"{path}.tool_call_id", "field required")
    call_id = expect_string(message["tool_call_id"], f"{path}.tool_call_id")
    texts = _text_content(_required_content(message, path), f"{path}.content")
    return Message("user", (ToolResultBlock(call_id, texts),))


def _assistant(message: JSONObject, path: str) -> Message:
    """Thinking (from the reasoning extensions), text, then tool calls."""
    refuse_unknown(message, path, _ASSISTANT_FIELDS)
    refuse_unless_neutral(message, path, _ASSISTANT_REFUSED)
    blocks: list[RequestBlock] = list(decode_thinking(message, path))
    content = message.get("content")
    if isinstance(content, str):
        blocks.append(TextBlock(content))
    elif content is not None:
        parts = _parts(content, f"{path}.content")
        blocks.extend(_assistant_part(p, f"{path}.content.{i}") for i, p in enumerate(parts))
    refusal = message.get("refusal")
    if refusal is not None:
        blocks.append(TextBlock(expect_string(refusal, f"{path}.refusal")))
    # Assistant content "" means no text, as null does; clients send either with calls.
    blocks = [b for b in blocks if not (isinstance(b, TextBlock) and not b.text)]
    calls = message.get("tool_calls")
    if calls is not None:
        items = expect_array(calls, f"{path}.tool_calls")
        blocks.extend(_tool_call(call, f"{path}.tool_calls.{i}") for i, call in enumerate(items))
    return Message("assistant", tuple(blocks))


_DECODERS: Mapping[str, Callable[[JSONObject, str], Message]] = {
    "system": _system,
    "developer": _system,  # the same meaning for newer models (WIRE-FORMATS 2.2)
    "user": _user,
    "assistant": _assistant,
    "tool": _tool,
}


def _tool_call(item: object, path: str) -> ToolCallBlock:
    call = expect_object(item, path)
    if call.get("type") != "function":
        message = f"{path}.type: only function tool calls can be translated"
        raise UnsupportedError(message, param=f"{path}.type")
    # `index` comes along when a client echoes a message assembled from a stream.
    refuse_unknown(call, path, frozenset({"id", "type", "function", "index"}))
    function = expect_object(call.get("function"), f"{path}.function")
    refuse_unknown(
        function, f"{path}.function", frozenset({"name", "arguments", "parsed_arguments"})
    )
    return ToolCallBlock(
        id=expect_string(call.get("id"), f"{path}.id"),
        name=expect_string(function.get("name"), f"{path}.function.name"),
        arguments=expect_string(function.get("arguments"), f"{path}.function.arguments"),
    )


def _required_content(message: JSONObject, path: str) -> object:
    content = message.get("content")
    if content is None:
        fail(f"{path}.content", "field required")
    return content


def _parts(content: object, path: str) -> list[object]:
    if not isinstance(content, list):
        fail(path, "expected a string or an array")
    if not content:
        fail(path, "must not be empty")
    return content


def _text_content(content: object, path: str) -> tuple[TextBlock, ...]:
    """A string, or an array of text parts (system, developer and tool messages)."""
    if isinstance(content, str):
        return (TextBlock(content),)
    return tuple(_text_part(part, f"{path}.{i}") for i, part in enumerate(_parts(content, path)))


def _text_part(item: object, path: str) -> TextBlock:
    part = expect_object(item, path)
    if part.get("type") != "text":
        _refuse_part(part.get("type"), path, "text")
    refuse_unknown(part, path, _TEXT_PART)
    return TextBlock(expect_string(part.get("text"), f"{path}.text"))


def _assistant_part(item: object, path: str) -> TextBlock:
    part = expect_object(item, path)
    if part.get("type") == "refusal":
        refuse_unknown(part, path, frozenset({"type", "refusal"}))
        return TextBlock(expect_string(part.get("refusal"), f"{path}.refusal"))
    return _text_part(part, path)


def _user_part(item: object, path: str) -> TextBlock | ImageBlock:
    part = expect_object(item, path)
    if part.get("type") == "image_url":
        refuse_unknown(part, path, _IMAGE_PART)
        return _image(part.get("image_url"), f"{path}.image_url")
    return _text_part(part, path)


def _refuse_part(kind: object, path: str, expected: str) -> NoReturn:
    reason = _PART_TYPES_REFUSED.get(kind) if isinstance(kind, str) else None
    if reason is not None:
        raise UnsupportedError(f"{path}.type: {reason}", param=f"{path}.type")
    fail(f"{path}.type", f"expected {expected}")


def _image(value: object, path: str) -> ImageBlock:
    """An https URL, or a `data:<media type>;base64,<data>` URL (WIRE-FORMATS 2.2)."""
    image = expect_object(value, path)
    refuse_unknown(image, path, frozenset({"url", "detail"}))
    url = expect_string(image.get("url"), f"{path}.url")
    detail = image.get("detail")
    if detail is not None and detail not in _DETAILS:
        fail(f"{path}.detail", "expected auto, low or high")
    if url.startswith("https://"):
        return ImageBlock(url=url, detail=detail)
    header, comma, data = url.partition(",")
    media_type = header.removeprefix("data:").removesuffix(";base64")
    if not (header.startswith("data:") and header.endswith(";base64") and comma and media_type):
        fail(f"{path}.url", "expected an https URL or a data:<media type>;base64,<data> URL")
    return ImageBlock(data=data, media_type=media_type, detail=detail)


def encode_messages(messages: tuple[Message, ...]) -> list[dict[str, object]]:
    encoded: list[dict[str, object]] = []
    for i, message in enumerate(messages):
        encoded.extend(_ENCODERS[message.role](message, f"messages.{i}"))
    return encoded


def _encode_system(message: Message, path: str) -> list[dict[str, object]]:
    return [{"role": "system", "content": _encode_texts(message.content, f"{path}.content")}]


def _encode_user(message: Message, path: str) -> list[dict[str, object]]:
    """Tool results first, one `tool` message each (they must follow the calls)."""
    encoded: list[dict[str, object]] = [
        _encode_result(block) for block in message.content if isinstance(block, ToolResultBlock)
    ]
    rest = [block for block in message.content if not isinstance(block, ToolResultBlock)]
    if rest or not encoded:
        encoded.append({"role": "user", "content": _encode_user_content(rest, path)})
    return encoded


def _encode_result(block: ToolResultBlock) -> dict[str, object]:
    # Chat has no is_error flag: the error text itself still reaches the model.
    if any(isinstance(part, ImageBlock) for part in block.content):
        message = "tool_result.content: OpenAI tool messages carry only text, not images"
        raise UnsupportedError(message, param="tool_result.content")
    content = _encode_texts(block.content, "tool_result.content") if block.content else ""
    return {"role": "tool", "tool_call_id": block.tool_call_id, "content": content}


def _encode_user_content(blocks: Sequence[RequestBlock], path: str) -> object:
    if len(blocks) == 1 and isinstance(blocks[0], TextBlock):
        return blocks[0].text
    parts: list[dict[str, object]] = []
    for block in blocks:
        if isinstance(block, TextBlock):
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append({"type": "image_url", "image_url": _encode_image(block, path)})
        else:
            _refuse_block(block, path)
    return parts or ""


def _encode_image(block: ImageBlock, path: str) -> dict[str, object]:
    if block.url is not None:
        url = block.url
    elif block.data is not None and block.media_type is not None:
        url = f"data:{block.media_type};base64,{block.data}"
    else:
        message = f"{path}: an image needs a URL, or data with its media type"
        raise UnsupportedError(message, param=path)
    image: dict[str, object] = {"url": url}
    if block.detail is not None:
        image["detail"] = block.detail
    return image


def _encode_assistant(message: Message, path: str) -> list[dict[str, object]]:
    """Prior thinking is left out: OpenAI Chat has no field for it, and api.openai.com
    rejects unknown message fields."""
    texts: list[RequestBlock] = []
    calls: list[dict[str, object]] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            texts.append(block)
        elif isinstance(block, ToolCallBlock):
            calls.append(_encode_call(block))
        elif not isinstance(block, ThinkingBlock | RedactedThinkingBlock):
            _refuse_block(block, path)
    encoded: dict[str, object] = {"role": "assistant"}
    if texts:
        encoded["content"] = _encode_texts(texts, f"{path}.content")
    else:
        # null is allowed only beside tool calls.
        encoded["content"] = None if calls else ""
    if calls:
        encoded["tool_calls"] = calls
    return [encoded]


def _encode_call(block: ToolCallBlock) -> dict[str, object]:
    # "" (no arguments) is not JSON; OpenAI parses the arguments of history calls.
    arguments = block.arguments or "{}"
    return {
        "id": block.id,
        "type": "function",
        "function": {"name": block.name, "arguments": arguments},
    }


_ENCODERS: Mapping[str, Callable[[Message, str], list[dict[str, object]]]] = {
    "system": _encode_system,
    "user": _encode_user,
    "assistant": _encode_assistant,
}


def _encode_texts(blocks: Sequence[RequestBlock], path: str) -> object:
    """One text as a string, several as text parts."""
    texts: list[str] = []
    for block in blocks:
        if not isinstance(block, TextBlock):
            _refuse_block(block, path)
        texts.append(block.text)
    if len(texts) == 1:
        return texts[0]
    return [{"type": "text", "text": text} for text in texts]


_BLOCK_NAMES: Mapping[type, str] = {
    TextBlock: "text",
    ImageBlock: "an image",
    ToolCallBlock: "a tool call",
    ToolResultBlock: "a tool result",
    ThinkingBlock: "thinking",
    RedactedThinkingBlock: "redacted thinking",
}


def _refuse_block(block: RequestBlock, path: str) -> NoReturn:
    kind = _BLOCK_NAMES.get(type(block), type(block).__name__)
    raise UnsupportedError(f"{path}: OpenAI Chat cannot carry {kind} here", param=path)
