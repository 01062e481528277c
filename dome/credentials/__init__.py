"""Secrets at rest and in memory: encryption with rotatable master keys, token hashing."""

from dome.credentials.keyring import (
    DecryptionError,
    Keyring,
    decode_key,
    encode_key,
    generate_key,
    key_id,
)
from dome.credentials.secret import Secret
from dome.credentials.tokens import (
    ADMIN_TOKEN_PREFIX,
    AGENT_TOKEN_PREFIX,
    hashes_equal,
    new_token,
    token_hash,
    visible_prefix,
)

__all__ = [
    "ADMIN_TOKEN_PREFIX",
    "AGENT_TOKEN_PREFIX",
    "DecryptionError",
    "Keyring",
    "Secret",
    "decode_key",
    "encode_key",
    "generate_key",
    "hashes_equal",
    "key_id",
    "new_token",
    "token_hash",
    "visible_prefix",
]
