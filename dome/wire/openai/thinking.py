"""Reasoning in Chat Completions messages, which the OpenAI format has no field for.

The widely used extensions (WIRE-FORMATS 6.1b): `reasoning_content` (DeepSeek, vLLM;
`reasoning` in newer vLLM, Ollama and OpenRouter) holds the visible reasoning text;
`thinking_blocks` (LiteLLM's convention) lists each block with its signature, so a
client can send Anthropic's signed thinking back in a tool-use loop.
"""

from __future__ import annotations

from dome.wire.canonical import ContentBlock, RedactedThinkingBlock, ThinkingBlock
from dome.wire.shape import JSONObject, expect_array, expect_object, expect_string, fail

ThinkingContent = ThinkingBlock | RedactedThinkingBlock

REASONING_FIELDS = ("reasoning_content", "reasoning")
"""Fields holding plain reasoning text, in order of preference."""


def reasoning_text(obj: JSONObject, path: str) -> str | None:
    """The first reasoning text field present (a message or a stream delta)."""
    for field in REASONING_FIELDS:
        value = obj.get(field)
        if value is not None:
            return expect_string(value, f"{path}.{field}")
    return None


def decode_thinking(message: JSONObject, path: str) -> tuple[ThinkingContent, ...]:
    """`thinking_blocks` when present, else the reasoning text as one unsigned block."""
    blocks = message.get("thinking_blocks")
    if blocks is not None:
        items = expect_array(blocks, f"{path}.thinking_blocks")
        return tuple(
            thinking_entry(item, f"{path}.thinking_blocks.{i}") for i, item in enumerate(items)
        )
    text = reasoning_text(message, path)
    return (ThinkingBlock(text),) if text else ()


def thinking_entry(item: object, path: str) -> ThinkingContent:
    """One `thinking_blocks` entry; `index` (from streamed entries) is not needed here."""
    entry = expect_object(item, path)
    kind = entry.get("type")
    if kind == "redacted_thinking":
        return RedactedThinkingBlock(expect_string(entry.get("data"), f"{path}.data"))
    if kind != "thinking":
        fail(f"{path}.type", "expected thinking or redacted_thinking")
    signature = entry.get("signature")
    return ThinkingBlock(
        text=expect_string(entry.get("thinking", ""), f"{path}.thinking"),
        signature="" if signature is None else expect_string(signature, f"{path}.signature"),
    )


def thinking_entries(blocks: tuple[ContentBlock, ...]) -> list[dict[str, str]]:
    """The `thinking_blocks` of an answer: every thinking block, signed or redacted."""
    entries: list[dict[str, str]] = []
    for block in blocks:
        if isinstance(block, ThinkingBlock):
            entries.append(
                {"type": "thinking", "thinking": block.text, "signature": block.signature}
            )
        elif isinstance(block, RedactedThinkingBlock):
            entries.append({"type": "redacted_thinking", "data": block.data})
    return entries
