"""Encryption at rest: round trips, key ids, rotation, tampering, and no leaks in reprs."""

from __future__ import annotations

import pytest

from dome.credentials import (
    DecryptionError,
    Keyring,
    Secret,
    decode_key,
    encode_key,
    generate_key,
    hashes_equal,
    key_id,
    new_token,
    token_hash,
)
from dome.errors import ConfigError


def test_round_trip_and_key_id_in_the_ciphertext() -> None:
    keyring = Keyring((generate_key(),))
    sealed = keyring.encrypt(b"sk-secret", context="model-credential:a")
    assert b"sk-secret" not in sealed
    assert sealed.startswith(b"v1:" + keyring.active_id.encode() + b":")
    assert keyring.decrypt(sealed, context="model-credential:a") == b"sk-secret"


def test_context_binds_the_ciphertext_to_its_row() -> None:
    keyring = Keyring((generate_key(),))
    sealed = keyring.encrypt(b"sk-secret", context="model-credential:a")
    with pytest.raises(DecryptionError):
        keyring.decrypt(sealed, context="model-credential:b")


def test_tampering_is_detected() -> None:
    keyring = Keyring((generate_key(),))
    sealed = bytearray(keyring.encrypt(b"sk-secret", context="c"))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionError):
        keyring.decrypt(bytes(sealed), context="c")


def test_rotation_keeps_old_ciphertexts_readable_until_resealed() -> None:
    old = Keyring((generate_key(),))
    sealed = old.encrypt(b"v", context="c")
    rotated = old.with_new_active(generate_key())
    assert rotated.active_id != old.active_id
    assert rotated.needs_reencrypt(sealed)
    assert rotated.decrypt(sealed, context="c") == b"v"
    resealed = rotated.encrypt(b"v", context="c")
    only_new = Keyring(rotated.keys[:1])
    assert only_new.decrypt(resealed, context="c") == b"v"
    with pytest.raises(DecryptionError, match=old.active_id):
        only_new.decrypt(sealed, context="c")


def test_key_encoding_and_bad_keys() -> None:
    key = generate_key()
    assert decode_key(encode_key(key)) == key
    with pytest.raises(ConfigError, match="32 bytes"):
        decode_key(encode_key(b"short"))
    with pytest.raises(ConfigError, match="base64"):
        decode_key("!!!not base64!!!")
    assert len(key_id(key)) == 8


def test_nothing_secret_in_reprs() -> None:
    key = generate_key()
    assert encode_key(key) not in repr(Keyring((key,)))
    secret = Secret("sk-live-123")
    assert "sk-live-123" not in repr(secret)
    assert "sk-live-123" not in str(secret)
    assert "sk-live-123" not in f"{secret}"
    assert secret.reveal() == "sk-live-123"


def test_token_hashes_are_keyed() -> None:
    token = new_token("dome_ak_")
    first, second = generate_key(), generate_key()
    assert token_hash(first, token) != token_hash(second, token)
    assert hashes_equal(token_hash(first, token), token_hash(first, token))
    assert not hashes_equal(token_hash(first, token), token_hash(first, token + "x"))
