"""The `max_tokens` to send Anthropic when the caller (an OpenAI agent) stated none.

Anthropic requires `max_tokens` (WIRE-FORMATS 3.2); OpenAI does not. The default is
conservative, below each family's real output limit, because the same number is the
output reserve spend budgets hold for the call:

    model id (after "claude-", any host prefix)       default max_tokens
    claude-3-haiku / claude-3-sonnet / claude-3-opus   4096   (their output limit)
    claude-3-5-*                                       8192   (their output limit)
    claude-3-7-*                                       16384
    claude-*-4*, claude-*-5* and later generations     16384
    anything else (claude-2, instant, unknown names)   4096

The generation is read from the first numeric part of the id, old naming
(`claude-3-5-sonnet-20241022`) and new (`claude-sonnet-4-5-20250929`) alike, and with
Bedrock and Vertex spellings (`us.anthropic.claude-3-7-sonnet-20250219-v1:0`,
`claude-opus-4@20250514`). Dates (8 digits) are not versions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

UNKNOWN_MODEL_MAX_TOKENS = 4096
CURRENT_MAX_TOKENS = 16384
"""Generations 4 and later: well under their 32k-128k output limits."""

MAX_TOKENS_BY_GENERATION: Mapping[tuple[int, int | None], int] = {
    (3, None): 4096,
    (3, 5): 8192,
    (3, 7): 16384,
}

_FIRST_CURRENT_GENERATION = 4
_MAX_MINOR_VERSION = 99  # anything longer is a date, not a minor version


def default_max_tokens(model: str) -> int:
    """The documented default `max_tokens` for the Anthropic model id `model`."""
    generation = _generation(model)
    if generation is None:
        return UNKNOWN_MODEL_MAX_TOKENS
    if generation[0] >= _FIRST_CURRENT_GENERATION:
        return CURRENT_MAX_TOKENS
    return MAX_TOKENS_BY_GENERATION.get(generation, UNKNOWN_MODEL_MAX_TOKENS)


def _generation(model: str) -> tuple[int, int | None] | None:
    """(major, minor) from the id: `claude-3-5-sonnet` -> (3, 5), `claude-opus-4` -> (4, None)."""
    _, found, rest = model.lower().partition("claude-")
    if not found:
        return None
    parts = re.split(r"[^a-z0-9]+", rest)
    for at, part in enumerate(parts):
        if part.isdigit() and int(part) <= _MAX_MINOR_VERSION:
            following = parts[at + 1] if at + 1 < len(parts) else ""
            is_minor = following.isdigit() and int(following) <= _MAX_MINOR_VERSION
            return int(part), int(following) if is_minor else None
    return None
