"""Tool call ids in the charset Anthropic accepts, rewritten the same way every time.

Anthropic requires `tool_use.id` (and so `tool_result.tool_use_id`) to match
`^[a-zA-Z0-9_-]+$` (WIRE-FORMATS 3.2, pitfall 8); other providers mint ids such as
`functions.get_weather:3`. The rewrite is a pure function of the id, so a call and its
result, encoded separately, still pair up.
"""

from __future__ import annotations

import hashlib
import re

_VALID = re.compile(r"[A-Za-z0-9_-]+")
_INVALID_CHAR = re.compile(r"[^A-Za-z0-9_-]")


def anthropic_tool_id(tool_call_id: str) -> str:
    """`tool_call_id` unchanged when Anthropic accepts it, else a deterministic rewrite.

    Other characters become `_` and a short digest of the original id follows, so two
    ids that differ only in replaced characters (`a.b`, `a:b`) stay distinct. The result
    is itself valid, so rewriting is idempotent.
    """
    if _VALID.fullmatch(tool_call_id):
        return tool_call_id
    digest = hashlib.sha256(tool_call_id.encode()).hexdigest()[:8]
    return f"{_INVALID_CHAR.sub('_', tool_call_id)}_{digest}"
