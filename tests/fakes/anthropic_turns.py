"""What the real Anthropic API refuses in `messages`: roles, blocks, tool pairing, thinking.

Pure generators of `Rejection`s (WIRE-FORMATS.md section 3.2, "Constraints that
bite translators"); paths are dotted with the block type in them, as the API
words them (`messages.1.content.0.tool_use.id`).
"""

import re
from collections.abc import Callable, Iterator

from tests.fakes.images import IMAGE_MEDIA_TYPES, decode_base64, is_web_url
from tests.fakes.payload import JsonObject, as_object, objects_in, str_field
from tests.fakes.reasoning import is_signed
from tests.fakes.rejection import Rejection

ROLES = ("user", "assistant")
TOOL_ID_PATTERN = re.compile(r"[a-zA-Z0-9_-]+")
THINKING_TYPES = ("thinking", "redacted_thinking")

BLOCK_TYPES = frozenset(
    {
        "text",
        "image",
        "document",
        "search_result",
        "tool_use",
        "tool_result",
        "thinking",
        "redacted_thinking",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "container_upload",
        "mcp_tool_use",
        "mcp_tool_result",
        "compaction",
    }
)
"""Content block tags the SDK's `ContentBlockParam` (and beta) unions declare."""

_IMAGE_MEDIA_LIST = ", ".join(f"'{kind}'" for kind in IMAGE_MEDIA_TYPES[:-1])
_IMAGE_MEDIA_TEXT = f"Input should be {_IMAGE_MEDIA_LIST} or '{IMAGE_MEDIA_TYPES[-1]}'"
_NON_EMPTY = (
    "all messages must have non-empty content except for the optional final assistant message"
)
_THINKING_FIRST = (
    "Expected `thinking` or `redacted_thinking`, but found `{found}`. When `thinking` is "
    "enabled, a final `assistant` message must start with a thinking block (preceeding the "
    "lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking "
    "blocks from previous turns. To avoid this requirement, disable `thinking`."
)

BlockCheck = Callable[[str, JsonObject], Iterator[Rejection]]


def conversation_rejections(messages: list[object], *, thinking: bool) -> Iterator[Rejection]:
    """Everything the API refuses in `messages`, in the order it checks."""
    for index, item in enumerate(messages):
        if not isinstance(item, dict):
            yield Rejection("Input should be a valid dictionary", f"messages.{index}")
    turns = objects_in(messages)
    yield from _role_rejections(turns)
    for index, turn in enumerate(turns):
        is_final_assistant = index == len(turns) - 1 and turn.get("role") == "assistant"
        yield from _content_rejections(index, turn, may_be_empty=is_final_assistant)
    yield from _pairing_rejections(turns)
    if thinking:
        yield from _thinking_turn_rejections(turns)


def blocks_of(turn: JsonObject) -> list[JsonObject]:
    """A turn's content blocks; string content is one text block (section 3.2)."""
    content = turn.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return objects_in(content) if isinstance(content, list) else []


def _role_rejections(turns: list[JsonObject]) -> Iterator[Rejection]:
    for index, turn in enumerate(turns):
        if turn.get("role") not in ROLES:
            yield Rejection("Input should be 'user' or 'assistant'", f"messages.{index}.role")
    if turns and turns[0].get("role") != "user":
        yield Rejection('first message must use the "user" role', "messages.0.role")


def _content_rejections(index: int, turn: JsonObject, *, may_be_empty: bool) -> Iterator[Rejection]:
    path = f"messages.{index}"
    content = turn.get("content")
    if not isinstance(content, str | list):
        yield Rejection("Input should be a valid list", f"{path}.content")
        return
    if not content and not may_be_empty:
        yield Rejection(_NON_EMPTY, path)
    if isinstance(content, list):
        yield from _blocks_rejections(f"{path}.content", content)


def _blocks_rejections(path: str, blocks: list[object]) -> Iterator[Rejection]:
    for position, block in enumerate(blocks):
        block_path = f"{path}.{position}"
        kind = as_object(block).get("type")
        if not isinstance(block, dict) or not isinstance(kind, str):
            yield Rejection("Input should be a valid dictionary with a `type`", block_path)
        elif kind not in BLOCK_TYPES:
            tags = ", ".join(f"'{tag}'" for tag in sorted(BLOCK_TYPES))
            message = f"Input tag '{kind}' found using 'type' does not match any of the expected tags: {tags}"
            yield Rejection(message, block_path)
        else:
            check = _BLOCK_CHECKS.get(kind)
            if check is not None:
                yield from check(block_path, as_object(block))


def _text_block(path: str, block: JsonObject) -> Iterator[Rejection]:
    text = block.get("text")
    if not isinstance(text, str):
        yield Rejection("Input should be a valid string", f"{path}.text.text")
    elif not text:
        yield Rejection("text content blocks must be non-empty", f"{path}.text.text")


def _image_block(path: str, block: JsonObject) -> Iterator[Rejection]:
    source = as_object(block.get("source"))
    kind = source.get("type")
    source_path = f"{path}.image.source"
    if kind == "base64":
        if source.get("media_type") not in IMAGE_MEDIA_TYPES:
            yield Rejection(_IMAGE_MEDIA_TEXT, f"{source_path}.base64.media_type")
        data = source.get("data")
        if not isinstance(data, str) or decode_base64(data) is None:
            yield Rejection("Image data is not valid base64", f"{source_path}.base64.data")
    elif kind == "url":
        url = source.get("url")
        if not isinstance(url, str) or not is_web_url(url):
            yield Rejection("Input should be a valid URL", f"{source_path}.url.url")
    elif kind != "file":
        message = f"Input tag '{kind}' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'"
        yield Rejection(message, source_path)


def _tool_use_block(path: str, block: JsonObject) -> Iterator[Rejection]:
    yield from _tool_id_rejections(block.get("id"), f"{path}.tool_use.id")
    if not isinstance(block.get("name"), str):
        yield Rejection("Field required", f"{path}.tool_use.name")
    if not isinstance(block.get("input"), dict):
        yield Rejection("Input should be a valid dictionary", f"{path}.tool_use.input")


def _tool_result_block(path: str, block: JsonObject) -> Iterator[Rejection]:
    yield from _tool_id_rejections(block.get("tool_use_id"), f"{path}.tool_result.tool_use_id")
    content = block.get("content")
    if isinstance(content, list):
        yield from _blocks_rejections(f"{path}.tool_result.content", content)
    elif content is not None and not isinstance(content, str):
        yield Rejection("Input should be a valid list", f"{path}.tool_result.content")


def _tool_id_rejections(value: object, path: str) -> Iterator[Rejection]:
    if not isinstance(value, str):
        yield Rejection("Field required", path)
    elif TOOL_ID_PATTERN.fullmatch(value) is None:
        yield Rejection("String should match pattern '^[a-zA-Z0-9_-]+$'", path)


def _thinking_block(path: str, block: JsonObject) -> Iterator[Rejection]:
    text, signature = block.get("thinking"), block.get("signature")
    if not isinstance(text, str):
        yield Rejection("Field required", f"{path}.thinking.thinking")
    elif not isinstance(signature, str):
        yield Rejection("Field required", f"{path}.thinking.signature")
    elif not is_signed(text, signature):
        yield Rejection("Invalid `signature` in `thinking` block", path)


def _redacted_thinking_block(path: str, block: JsonObject) -> Iterator[Rejection]:
    if not isinstance(block.get("data"), str):
        yield Rejection("Field required", f"{path}.redacted_thinking.data")


_BLOCK_CHECKS: dict[str, BlockCheck] = {
    "text": _text_block,
    "image": _image_block,
    "tool_use": _tool_use_block,
    "tool_result": _tool_result_block,
    "thinking": _thinking_block,
    "redacted_thinking": _redacted_thinking_block,
}


def _ids_of(turn: JsonObject, kind: str, key: str) -> list[str]:
    blocks = [block for block in blocks_of(turn) if block.get("type") == kind]
    return [value for block in blocks if (value := str_field(block, key)) is not None]


def _pairing_rejections(turns: list[JsonObject]) -> Iterator[Rejection]:
    # Each tool_use needs its tool_result in the very next (user) message, and
    # tool_result blocks lead that message (section 3.2; WIRE-FORMATS 7.8).
    for index, turn in enumerate(turns):
        offered = _ids_of(turns[index - 1], "tool_use", "id") if index else []
        yield from _tool_result_rejections(index, blocks_of(turn), offered)
        yield from _unanswered_rejections(turns, index)


def _tool_result_rejections(
    index: int, blocks: list[JsonObject], offered: list[str]
) -> Iterator[Rejection]:
    results = [k for k, block in enumerate(blocks) if block.get("type") == "tool_result"]
    if not results:
        return
    if results != list(range(len(results))):
        late = next(
            k for k, expected in zip(results, range(len(results)), strict=True) if k != expected
        )
        message = (
            "`tool_result` blocks must come first in the user message, before any other content"
        )
        yield Rejection(message, f"messages.{index}.content.{late}")
    for position in results:
        call_id = str_field(blocks[position], "tool_use_id")
        if call_id not in offered:
            yield Rejection(
                f"unexpected `tool_use_id` found in `tool_result` blocks: {call_id}. "
                "Each `tool_result` block must have a corresponding `tool_use` block in the "
                "previous message.",
                f"messages.{index}.content.{position}",
            )


def _unanswered_rejections(turns: list[JsonObject], index: int) -> Iterator[Rejection]:
    calls = (
        _ids_of(turns[index], "tool_use", "id") if turns[index].get("role") == "assistant" else []
    )
    following = turns[index + 1] if index + 1 < len(turns) else {}
    answered = _ids_of(following, "tool_result", "tool_use_id")
    missing = [call for call in calls if call not in answered]
    if missing:
        yield Rejection(
            f"`tool_use` ids were found without `tool_result` blocks immediately after: "
            f"{', '.join(missing)}. Each `tool_use` block must have a corresponding "
            "`tool_result` block in the next message.",
            f"messages.{index}",
        )


def _thinking_turn_rejections(turns: list[JsonObject]) -> Iterator[Rejection]:
    # With thinking on, the last assistant turn of a tool loop must open with
    # its thinking block (section 3.2).
    assistant = [index for index, turn in enumerate(turns) if turn.get("role") == "assistant"]
    if not assistant:
        return
    index = assistant[-1]
    blocks = blocks_of(turns[index])
    if not any(block.get("type") == "tool_use" for block in blocks):
        return
    found = blocks[0].get("type")
    if found not in THINKING_TYPES:
        yield Rejection(_THINKING_FIRST.format(found=found), f"messages.{index}.content.0.type")
