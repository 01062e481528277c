"""Encryption at rest: AES-256-GCM under a master key, each ciphertext tagged with its key id.

Ciphertext layout: b"v1:" + key_id (8 hex chars) + b":" + nonce (12 bytes) + sealed data.
The key id lets several master keys coexist while they rotate: decrypt picks the key the
ciphertext names, encrypt always uses the active key. The name of what is encrypted is
bound as associated data, so a ciphertext cannot be moved to another row.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dome.errors import ConfigError

_VERSION = b"v1:"
_NONCE_BYTES = 12
KEY_BYTES = 32


class DecryptionError(ConfigError):
    """A ciphertext that no key of the keyring opens (wrong key, or tampered)."""


def key_id(key: bytes) -> str:
    """A short, stable, non-secret name for a key."""
    return hashlib.sha256(b"dome-key-id:" + key).hexdigest()[:8]


def generate_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_key(text: str) -> bytes:
    """Parse one base64 master key; raises ConfigError with no key material in it."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        msg = "master key is not valid base64"
        raise ConfigError(msg) from exc
    if len(key) != KEY_BYTES:
        msg = f"master key must be {KEY_BYTES} bytes, got {len(key)}"
        raise ConfigError(msg)
    return key


@dataclass(frozen=True, slots=True)
class Keyring:
    """The active master key first, then older keys still able to decrypt."""

    keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            msg = "a keyring needs at least one key"
            raise ConfigError(msg)

    def __repr__(self) -> str:
        return f"Keyring(active={self.active_id!r}, keys={len(self.keys)})"

    @property
    def active_id(self) -> str:
        return key_id(self.keys[0])

    def with_new_active(self, key: bytes) -> Keyring:
        return Keyring((key, *self.keys))

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes:
        key = self.keys[0]
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, plaintext, context.encode())
        return _VERSION + key_id(key).encode() + b":" + nonce + sealed

    def decrypt(self, ciphertext: bytes, *, context: str) -> bytes:
        kid = ciphertext_key_id(ciphertext)
        body = ciphertext[len(_VERSION) + 9 :]
        nonce, sealed = body[:_NONCE_BYTES], body[_NONCE_BYTES:]
        for key in self.keys:
            if key_id(key) != kid:
                continue
            try:
                return AESGCM(key).decrypt(nonce, sealed, context.encode())
            except InvalidTag as exc:
                msg = f"ciphertext for {context!r} failed authentication"
                raise DecryptionError(msg) from exc
        msg = f"no master key with id {kid} to decrypt {context!r}"
        raise DecryptionError(msg)

    def needs_reencrypt(self, ciphertext: bytes) -> bool:
        return ciphertext_key_id(ciphertext) != self.active_id


def ciphertext_key_id(ciphertext: bytes) -> str:
    if not ciphertext.startswith(_VERSION) or len(ciphertext) < len(_VERSION) + 9:
        msg = "not a Dome ciphertext"
        raise DecryptionError(msg)
    return ciphertext[len(_VERSION) : len(_VERSION) + 8].decode("ascii", "replace")
