"""Master key rotation: re-encrypt every stored secret under the active key.

With a key file, rotation first makes a new key and puts it first in the file; the old
key stays in the file until every ciphertext is re-encrypted, then it is dropped. With
DOME_MASTER_KEY, the operator puts the new key first in that variable on every replica
and restarts; rotation then re-encrypts under it.
"""

from __future__ import annotations

from dome.credentials import Keyring, generate_key
from dome.credentials.master_key import write_key_file
from dome.errors import ConflictError
from dome.server.bootstrap import STORED_KEYS
from dome.server.runtime import Runtime
from dome.store.snapshot import credential_context

_MAX_PASSES = 5


async def rotate_master_key(runtime: Runtime) -> tuple[str, int]:
    """Returns the active key id and how many ciphertexts were re-encrypted."""
    async with runtime.credential_writes:
        return await _rotate(runtime)


async def _rotate(runtime: Runtime) -> tuple[str, int]:
    file_backed = runtime.settings.master_key_env is None
    keyring = runtime.keyring
    if file_backed:
        keyring = keyring.with_new_active(generate_key())
        write_key_file(runtime.settings.data_dir, keyring)
        runtime.keyring = keyring  # from here on this process writes under the new key
    count = 0
    # Another process may still write under an old key while we work: read back and
    # repeat until every ciphertext names the active key, before dropping old keys.
    for _ in range(_MAX_PASSES):
        pending = await _stale_ciphertexts(runtime, keyring)
        if not pending[0] and not pending[1]:
            break
        await runtime.store.replace_ciphertexts(*pending)
        count += len(pending[0]) + len(pending[1])
    else:
        msg = "master key rotation did not settle: credentials keep changing; try again"
        raise ConflictError(msg)
    if file_backed:
        keyring = Keyring(keyring.keys[:1])
        write_key_file(runtime.settings.data_dir, keyring)
    runtime.keyring = keyring
    await runtime.reload()
    return keyring.active_id, count


async def _stale_ciphertexts(
    runtime: Runtime, keyring: Keyring
) -> tuple[list[tuple[str, bytes | None]], list[tuple[str, bytes]]]:
    """Every stored ciphertext not yet under the active key, re-sealed under it."""
    rows = await runtime.store.load_config()
    models: list[tuple[str, bytes | None]] = [
        (row.name, _reseal(keyring, row.credential, credential_context(row.name)))
        for row in rows.models
        if row.credential is not None and keyring.needs_reencrypt(row.credential)
    ]
    keys = []
    for name in STORED_KEYS:
        stored = await runtime.store.get_key(name)
        if stored is not None and keyring.needs_reencrypt(stored):
            keys.append((name, _reseal(keyring, stored, name)))
    return models, keys


def _reseal(keyring: Keyring, ciphertext: bytes, context: str) -> bytes:
    return keyring.encrypt(keyring.decrypt(ciphertext, context=context), context=context)
