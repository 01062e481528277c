"""Anthropic Messages wire JSON for the fake: request facts in, messages, events out.

Pure builders over `Answer`s (WIRE-FORMATS.md section 3); no I/O, no pacing.
"""

from collections.abc import Callable

from tests.fakes.answers import Answer, Prompt, ToolSpec, split_fragments
from tests.fakes.delivery import SseEvent
from tests.fakes.images import decode_base64, inline_note, url_note
from tests.fakes.payload import (
    JsonObject,
    count_text_chars,
    dump_json,
    list_field,
    object_field,
    objects_in,
    str_field,
)
from tests.fakes.reasoning import sign_thinking

CREATED_AT = "2025-01-01T00:00:00Z"
"""The fixed `created_at` of every model the fake lists."""


def prompt_from_messages(body: JsonObject) -> Prompt:
    """The answer-deciding facts of a `messages` or `count_tokens` request body."""
    messages = objects_in(list_field(body, "messages"))
    tools = objects_in(list_field(body, "tools"))
    last = messages[-1] if messages else {}
    blocks = _blocks(last.get("content"))
    counted = [messages, tools, body.get("system")]
    return Prompt(
        last_text="".join(_block_text(block) for block in blocks),
        ends_with_tool_result=any(block.get("type") == "tool_result" for block in blocks),
        tools=tuple(_tool_spec(tool) for tool in tools),
        text_chars=sum(count_text_chars(part) for part in counted),
        image_notes=tuple(note for block in blocks for note in _image_notes(block)),
    )


def _blocks(content: object) -> list[JsonObject]:
    # A string content is shorthand for one text block (section 3.2).
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return objects_in(content) if isinstance(content, list) else []


def _block_text(block: JsonObject) -> str:
    if block.get("type") == "tool_result":
        return "".join(_block_text(inner) for inner in _blocks(block.get("content")))
    if block.get("type") != "text":
        return ""
    return str_field(block, "text") or ""


def _image_notes(block: JsonObject) -> list[str]:
    # Images count in the last message and in the tool results it carries.
    if block.get("type") == "tool_result":
        return [note for inner in _blocks(block.get("content")) for note in _image_notes(inner)]
    if block.get("type") != "image":
        return []
    source = object_field(block, "source")
    url = str_field(source, "url")
    if source.get("type") == "url" and url is not None:
        return [url_note(url)]
    decoded = decode_base64(str_field(source, "data") or "")
    media_type = str_field(source, "media_type") or ""
    return [inline_note(media_type, len(decoded))] if decoded is not None else []


def _tool_spec(tool: JsonObject) -> ToolSpec:
    return ToolSpec(str_field(tool, "name") or "", object_field(tool, "input_schema"))


def stop_reason(answer: Answer) -> str:
    return "tool_use" if answer.is_tool_use else "end_turn"


def _content(answer: Answer) -> list[JsonObject]:
    return [*_thinking_blocks(answer), *_answer_blocks(answer)]


def _thinking_blocks(answer: Answer) -> list[JsonObject]:
    # Thinking comes first, signed so the fake can check it when sent back.
    if answer.reasoning is None:
        return []
    signature = sign_thinking(answer.reasoning)
    return [{"type": "thinking", "thinking": answer.reasoning, "signature": signature}]


def _answer_blocks(answer: Answer) -> list[JsonObject]:
    if not answer.is_tool_use:
        return [{"type": "text", "text": answer.text}]
    return [
        {
            "type": "tool_use",
            "id": call.call_id,
            "name": call.name,
            "input": call.arguments,
        }
        for call in answer.tool_calls
    ]


def _usage(answer: Answer, output_tokens: int) -> JsonObject:
    return {
        "input_tokens": answer.input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def message(answer: Answer, *, message_id: str, model: str) -> JsonObject:
    """A non-streaming `message` object (section 3.3)."""
    return _message(answer, message_id, model, content=_content(answer), final=True)


def _message(
    answer: Answer,
    message_id: str,
    model: str,
    *,
    content: list[JsonObject],
    final: bool,
) -> JsonObject:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(answer) if final else None,
        "stop_sequence": None,
        "usage": _usage(answer, answer.output_tokens if final else 1),
    }


def stream_events(answer: Answer, *, message_id: str, model: str) -> list[SseEvent]:
    """The event sequence of section 3.4, each with its `event:` name.

    A `ping` follows the first `content_block_start`, as the real API sends it.
    """
    start = _message(answer, message_id, model, content=[], final=False)
    blocks = [
        event
        for index, block in enumerate(_content(answer))
        for event in _block_events(index, block)
    ]
    named = [
        _event("message_start", message=start),
        *blocks[:1],
        _event("ping"),
        *blocks[1:],
        _event(
            "message_delta",
            delta={"stop_reason": stop_reason(answer), "stop_sequence": None},
            usage={"output_tokens": answer.output_tokens},
        ),
        _event("message_stop"),
    ]
    return [SseEvent(dump_json(data), event=name) for name, data in named]


def _event(name: str, **fields: object) -> tuple[str, JsonObject]:
    """An event name with its data; the data's `type` repeats the name."""
    return name, {"type": name, **fields}


def _block_events(index: int, block: JsonObject) -> list[tuple[str, JsonObject]]:
    # Blocks open empty; their content arrives only in deltas.
    opening, deltas = _BLOCK_PARTS[str(block["type"])](block)
    return [
        _event("content_block_start", index=index, content_block=opening),
        *(_event("content_block_delta", index=index, delta=d) for d in deltas),
        _event("content_block_stop", index=index),
    ]


BlockParts = tuple[JsonObject, list[JsonObject]]
"""A block's empty opening and the deltas that fill it."""


def _text_parts(block: JsonObject) -> BlockParts:
    pieces = split_fragments(str_field(block, "text") or "")
    return {"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in pieces]


def _tool_use_parts(block: JsonObject) -> BlockParts:
    pieces = split_fragments(dump_json(block["input"]))
    deltas: list[JsonObject] = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
    return {**block, "input": {}}, deltas


def _thinking_parts(block: JsonObject) -> BlockParts:
    # The signature arrives whole, just before the block stops (section 3.4).
    pieces = split_fragments(str_field(block, "thinking") or "")
    deltas: list[JsonObject] = [{"type": "thinking_delta", "thinking": p} for p in pieces]
    deltas.append({"type": "signature_delta", "signature": block["signature"]})
    return {"type": "thinking", "thinking": "", "signature": ""}, deltas


_BLOCK_PARTS: dict[str, Callable[[JsonObject], BlockParts]] = {
    "text": _text_parts,
    "tool_use": _tool_use_parts,
    "thinking": _thinking_parts,
}


def count_tokens(answer_input_tokens: int) -> JsonObject:
    return {"input_tokens": answer_input_tokens}


def models(ids: list[str]) -> JsonObject:
    entries = [
        {"type": "model", "id": model, "display_name": model, "created_at": CREATED_AT}
        for model in ids
    ]
    return {
        "data": entries,
        "has_more": False,
        "first_id": ids[0] if ids else None,
        "last_id": ids[-1] if ids else None,
    }


def error(error_type: str, message: str, request_id: str) -> JsonObject:
    """The error body (section 3.5)."""
    return {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }
