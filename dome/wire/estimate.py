"""Token estimates for when no provider counts: a rough rule, stated as such.

Used by the mock's usage and by `count_tokens` against providers without a counting
endpoint. The numbers are documented in docs/translation.md; answers built from them
are always marked as estimates.
"""

from __future__ import annotations

import math

from dome.wire.canonical import ConversationDigest

CHARS_PER_TOKEN = 4
"""The usual rough ratio for English text and JSON."""

IMAGE_TOKENS = 1600
"""Per image: what Anthropic charges for a full-size (about 1.15 megapixel) image."""


def estimate_tokens(chars: int) -> int:
    """Tokens for `chars` characters of text; at least 1."""
    return max(1, math.ceil(chars / CHARS_PER_TOKEN))


def estimate_input_tokens(digest: ConversationDigest) -> int:
    """The request's input: its text (system, messages, tool definitions) and images."""
    return estimate_tokens(digest.input_text_chars) + IMAGE_TOKENS * len(digest.images)
