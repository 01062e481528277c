"""Dome tokens (agents, admin): generated here, stored only as keyed hashes.

The hash key is a random secret kept encrypted in the store, so a stolen database
alone cannot be used to test guessed tokens offline.
"""

from __future__ import annotations

import hmac
import secrets

AGENT_TOKEN_PREFIX = "dome_ak_"  # noqa: S105 - a prefix, not a secret
ADMIN_TOKEN_PREFIX = "dome_adm_"  # noqa: S105 - a prefix, not a secret
_VISIBLE_PREFIX = 12


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def visible_prefix(token: str) -> str:
    """The part of a token safe to show in listings."""
    return token[:_VISIBLE_PREFIX]


def token_hash(hash_key: bytes, token: str) -> str:
    # hmac.digest is the one-shot C path: several times faster than hmac.new().
    return hmac.digest(hash_key, token.encode("utf-8", "surrogatepass"), "sha256").hex()


def hashes_equal(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())
