"""What the Anthropic-shaped request encoders share (Messages, Bedrock Converse): the
system prompt hoisted out of the conversation, same-role turns merged (both APIs want
user and assistant to alternate), and tool-call arguments as a JSON object.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import orjson

from dome.errors import InvalidRequestError
from dome.wire.canonical import Message, RequestBlock

Block = dict[str, object]
Turn = tuple[str, list[Block]]  # (role, blocks)


def hoisted_turns(
    messages: Sequence[Message],
    system_blocks: Callable[[Message, str], list[Block]],
    encode_block: Callable[[RequestBlock, str], Block | None],
) -> tuple[list[Block], list[Turn]]:
    """(system blocks, (role, blocks) turns): system hoisted, same-role turns merged;
    `encode_block` returns None for a block the target leaves out."""
    system: list[Block] = []
    turns: list[Turn] = []
    for i, message in enumerate(messages):
        path = f"messages.{i}"
        if message.role == "system":
            system.extend(system_blocks(message, path))
            continue
        blocks = [
            encoded
            for j, block in enumerate(message.content)
            if (encoded := encode_block(block, f"{path}.content.{j}")) is not None
        ]
        if not blocks:
            continue
        if turns and turns[-1][0] == message.role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((message.role, blocks))
    if not turns:
        problem = "messages: nothing to send besides the system prompt"
        raise InvalidRequestError(problem, param="messages")
    return system, turns


def arguments_object(arguments: str, path: str) -> dict[str, object]:
    """Arguments JSON text as the `input` object; blank means `{}` (pitfall 6)."""
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(f"{path}: not valid JSON", param=path) from exc
    if not isinstance(value, dict):
        raise InvalidRequestError(f"{path}: expected a JSON object", param=path)
    return value
