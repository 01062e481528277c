"""OpenAI wire JSON for the fake: request facts in, completions, chunks, errors out.

Pure builders over `Answer`s (WIRE-FORMATS.md section 2); no I/O, no pacing.
"""

import base64
import struct
from dataclasses import dataclass

from tests.fakes.answers import Answer, Prompt, ToolCall, ToolSpec, split_fragments
from tests.fakes.delivery import SseEvent
from tests.fakes.images import image_url_note
from tests.fakes.payload import (
    JsonObject,
    count_text_chars,
    dump_json,
    list_field,
    object_field,
    objects_in,
    str_field,
)

CREATED = 1735689600
"""The fixed `created` timestamp of every fake completion and model."""

OWNER = "dome-fake"
DONE_EVENT = SseEvent("[DONE]")


def prompt_from_chat(body: JsonObject) -> Prompt:
    """The answer-deciding facts of a `chat/completions` request body."""
    messages = objects_in(list_field(body, "messages"))
    tools = objects_in(list_field(body, "tools"))
    last = messages[-1] if messages else {}
    return Prompt(
        last_text=_content_text(last.get("content")),
        ends_with_tool_result=str_field(last, "role") == "tool",
        tools=tuple(_tool_spec(tool) for tool in tools),
        text_chars=count_text_chars(messages) + count_text_chars(tools),
        image_notes=_image_notes(last.get("content")),
    )


def _image_notes(content: object) -> tuple[str, ...]:
    # Notes for the last message's `image_url` parts, in order.
    parts = objects_in(content) if isinstance(content, list) else []
    images = [part for part in parts if part.get("type") == "image_url"]
    urls = [str_field(object_field(part, "image_url"), "url") or "" for part in images]
    return tuple(note for url in urls if (note := image_url_note(url)) is not None)


def _content_text(content: object) -> str:
    # Content is a string or a list of parts; only text parts carry text.
    if isinstance(content, str):
        return content
    parts = objects_in(content) if isinstance(content, list) else []
    return "".join(str_field(part, "text") or "" for part in parts)


def _tool_spec(tool: JsonObject) -> ToolSpec:
    function = object_field(tool, "function")
    name = str_field(function, "name") or ""
    return ToolSpec(name, object_field(function, "parameters"))


def finish_reason(answer: Answer) -> str:
    return "tool_calls" if answer.is_tool_use else "stop"


def usage(answer: Answer) -> JsonObject:
    return {
        "prompt_tokens": answer.input_tokens,
        "completion_tokens": answer.output_tokens,
        "total_tokens": answer.input_tokens + answer.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": answer.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def completion(answer: Answer, *, completion_id: str, model: str) -> JsonObject:
    """A non-streaming `chat.completion` object (section 2.3)."""
    message: JsonObject = {
        "role": "assistant",
        "content": None if answer.is_tool_use else answer.text,
        "refusal": None,
        "annotations": [],
    }
    if answer.reasoning is not None:
        # Self-hosted reasoning servers (vLLM, DeepSeek) add the reasoning text.
        message["reasoning_content"] = answer.reasoning
    if answer.is_tool_use:
        message["tool_calls"] = [_tool_call(call) for call in answer.tool_calls]
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": finish_reason(answer),
    }
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [choice],
        "usage": usage(answer),
        "service_tier": "default",
        "system_fingerprint": None,
    }


def _tool_call(call: ToolCall) -> JsonObject:
    function = {"name": call.name, "arguments": call.arguments_json}
    return {"id": call.call_id, "type": "function", "function": function}


@dataclass(frozen=True, slots=True)
class _ChunkMaker:
    completion_id: str
    model: str
    include_usage: bool

    def choice(self, delta: JsonObject, reason: str | None = None) -> JsonObject:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
        return self._chunk([choice], None)

    def usage(self, answer: Answer) -> JsonObject:
        return self._chunk([], usage(answer))

    def _chunk(self, choices: list[JsonObject], usage: JsonObject | None) -> JsonObject:
        chunk: JsonObject = {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.model,
            "choices": choices,
        }
        # Rule 6 of section 2.4: `usage` appears on every chunk only when asked.
        if self.include_usage:
            chunk["usage"] = usage
        return chunk


def stream_chunks(
    answer: Answer, *, completion_id: str, model: str, include_usage: bool
) -> list[JsonObject]:
    """`chat.completion.chunk` objects in wire order (section 2.4), without [DONE]."""
    maker = _ChunkMaker(completion_id, model, include_usage)
    role_delta: JsonObject = {
        "role": "assistant",
        "content": None if answer.is_tool_use else "",
        "refusal": None,
    }
    chunks = [maker.choice(role_delta)]
    reasoning = split_fragments(answer.reasoning or "")
    chunks += [maker.choice({"reasoning_content": piece}) for piece in reasoning]
    chunks += [maker.choice({"content": piece}) for piece in split_fragments(answer.text)]
    for index, call in enumerate(answer.tool_calls):
        chunks += [maker.choice({"tool_calls": [d]}) for d in _call_deltas(index, call)]
    chunks.append(maker.choice({}, finish_reason(answer)))
    if include_usage:
        chunks.append(maker.usage(answer))
    return chunks


def _call_deltas(index: int, call: ToolCall) -> list[JsonObject]:
    # The first fragment names the call; later ones carry only argument pieces.
    opening: JsonObject = {
        "index": index,
        "id": call.call_id,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }
    pieces = split_fragments(call.arguments_json)
    return [opening, *({"index": index, "function": {"arguments": p}} for p in pieces)]


def stream_events(chunks: list[JsonObject]) -> list[SseEvent]:
    """Chunks as bare `data:` events, ended by `data: [DONE]`."""
    return [*(SseEvent(dump_json(chunk)) for chunk in chunks), DONE_EVENT]


def embedding_inputs(body: JsonObject) -> list[str]:
    """The texts to embed; token-id arrays stand in as their JSON text."""
    value = body.get("input")
    if isinstance(value, str):
        return [value]
    items = value if isinstance(value, list) else []
    if items and all(isinstance(item, int) for item in items):
        return [dump_json(items)]
    return [item if isinstance(item, str) else dump_json(item) for item in items]


def embedding_item(index: int, vector: list[float], *, as_base64: bool) -> JsonObject:
    # base64 of little-endian float32 is what the Python SDK decodes (section 2.7).
    packed = struct.pack(f"<{len(vector)}f", *vector)
    encoded: object = base64.b64encode(packed).decode() if as_base64 else vector
    return {"object": "embedding", "index": index, "embedding": encoded}


def embeddings(items: list[JsonObject], *, model: str, prompt_tokens: int) -> JsonObject:
    return {
        "object": "list",
        "model": model,
        "data": items,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def models(ids: list[str]) -> JsonObject:
    entries = [
        {"id": model, "object": "model", "created": CREATED, "owned_by": OWNER} for model in ids
    ]
    return {"object": "list", "data": entries}


def error(message: str, error_type: str, param: str | None, code: str | None) -> JsonObject:
    """The error body of every endpoint (section 2.5); `param`/`code` always present."""
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}
