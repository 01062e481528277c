"""The reasoning fake models show or count: thinking text, signatures, effort budgets.

Pure and deterministic. A thinking signature is an HMAC of the thinking text
under a fixed fake secret, so the fake can tell its own blocks from forged or
edited ones when a conversation sends them back.
"""

import base64
import hashlib
import hmac

from tests.fakes.answers import Prompt

THINKING_PREFIX = "thinking about: "
"""Reasoning text is this prefix followed by the last message's text."""

_SIGNING_SECRET = b"dome-fake-upstream-thinking-secret"

EFFORT_REASONING_TOKENS: dict[str, int] = {
    "none": 0,
    "minimal": 8,
    "low": 16,
    "medium": 32,
    "high": 64,
    "xhigh": 128,
    "max": 256,
}
"""Reasoning tokens the fake OpenAI reports per `reasoning_effort` (its accepted values)."""


def thinking_text(prompt: Prompt) -> str:
    """The reasoning a fake model shows for `prompt`."""
    return THINKING_PREFIX + prompt.last_text


def sign_thinking(text: str) -> str:
    """The signature the fake issues for a thinking block holding `text`."""
    digest = hmac.new(_SIGNING_SECRET, text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def is_signed(text: str, signature: str) -> bool:
    """True when `signature` is the one the fake issued for `text`."""
    return hmac.compare_digest(sign_thinking(text), signature)
