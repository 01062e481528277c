"""Bedrock Converse JSON and ConverseStream frames for the fake Bedrock (WIRE-FORMATS 4.2-4.3).

Pure: a request body in, the facts of its prompt out; an `Answer` in, the Converse
response body or the list of event-stream frames out.
"""

from tests.fakes.answers import Answer, Prompt, ToolSpec, split_fragments
from tests.fakes.bedrock_frames import event_frame
from tests.fakes.images import decode_base64, inline_note
from tests.fakes.payload import (
    JsonObject,
    count_text_chars,
    list_field,
    object_field,
    objects_in,
    str_field,
)
from tests.fakes.reasoning import sign_thinking

PADDING = "abcdefghijklmnopqrstuvwxyz"
"""Bedrock pads every stream payload with a random-length `p` field (WIRE-FORMATS 4.3)."""

MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


def prompt_from_converse(body: JsonObject) -> Prompt:
    """The answer-deciding facts of a Converse request body."""
    messages = objects_in(list_field(body, "messages"))
    tool_config = object_field(body, "toolConfig")
    tools = [
        object_field(tool, "toolSpec") for tool in objects_in(list_field(tool_config, "tools"))
    ]
    last = objects_in(list_field(messages[-1], "content")) if messages else []
    return Prompt(
        last_text="".join(_block_text(block) for block in last),
        ends_with_tool_result=any("toolResult" in block for block in last),
        tools=tuple(
            ToolSpec(
                str_field(tool, "name") or "",
                object_field(object_field(tool, "inputSchema"), "json"),
            )
            for tool in tools
        ),
        text_chars=sum(count_text_chars(part) for part in (messages, tools, body.get("system"))),
        image_notes=tuple(note for block in last for note in _image_notes(block)),
    )


def converse_response(answer: Answer) -> JsonObject:
    """The Converse response body for `answer` (`POST /model/{id}/converse`)."""
    content: list[object] = []
    if answer.reasoning is not None:
        reasoning = {
            "reasoningText": {
                "text": answer.reasoning,
                "signature": sign_thinking(answer.reasoning),
            }
        }
        content.append({"reasoningContent": reasoning})
    if answer.text:
        content.append({"text": answer.text})
    content.extend(
        {"toolUse": {"toolUseId": call.call_id, "name": call.name, "input": call.arguments}}
        for call in answer.tool_calls
    )
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": "tool_use" if answer.is_tool_use else "end_turn",
        "usage": usage(answer),
        "metrics": {"latencyMs": 1},
    }


def usage(answer: Answer) -> JsonObject:
    return {
        "inputTokens": answer.input_tokens,
        "outputTokens": answer.output_tokens,
        "totalTokens": answer.input_tokens + answer.output_tokens,
        "cacheReadInputTokens": 0,
        "cacheWriteInputTokens": 0,
    }


def stream_frames(answer: Answer) -> list[bytes]:
    """The ConverseStream frames for `answer`, in Bedrock's observed order (4.3)."""
    events: list[tuple[str, JsonObject]] = [("messageStart", {"role": "assistant"})]
    index = 0
    if answer.reasoning is not None:
        events.extend(
            _delta(index, {"reasoningContent": {"text": part}})
            for part in split_fragments(answer.reasoning)
        )
        events.append(
            _delta(index, {"reasoningContent": {"signature": sign_thinking(answer.reasoning)}})
        )
        events.append(("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    if answer.text:
        # Text blocks get no contentBlockStart: their first delta opens them.
        events.extend(_delta(index, {"text": part}) for part in split_fragments(answer.text))
        events.append(("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    for call in answer.tool_calls:
        start = {"toolUse": {"toolUseId": call.call_id, "name": call.name}}
        events.append(("contentBlockStart", {"contentBlockIndex": index, "start": start}))
        events.extend(
            _delta(index, {"toolUse": {"input": part}})
            for part in split_fragments(call.arguments_json)
        )
        events.append(("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    events.append(("messageStop", {"stopReason": "tool_use" if answer.is_tool_use else "end_turn"}))
    events.append(("metadata", {"usage": usage(answer), "metrics": {"latencyMs": 1}}))
    return [
        event_frame(name, {**payload, "p": PADDING[: 1 + position % len(PADDING)]})
        for position, (name, payload) in enumerate(events)
    ]


def _delta(index: int, delta: JsonObject) -> tuple[str, JsonObject]:
    return "contentBlockDelta", {"contentBlockIndex": index, "delta": delta}


def _block_text(block: JsonObject) -> str:
    if "toolResult" in block:
        inner = objects_in(list_field(object_field(block, "toolResult"), "content"))
        return "".join(_block_text(item) for item in inner)
    return str_field(block, "text") or ""


def _image_notes(block: JsonObject) -> list[str]:
    if "toolResult" in block:
        inner = objects_in(list_field(object_field(block, "toolResult"), "content"))
        return [note for item in inner for note in _image_notes(item)]
    image = object_field(block, "image")
    decoded = decode_base64(str_field(object_field(image, "source"), "bytes") or "")
    if decoded is None:
        return []
    return [inline_note(MEDIA_TYPES.get(str_field(image, "format") or "", ""), len(decoded))]
