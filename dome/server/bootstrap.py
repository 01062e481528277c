"""First-start and every-start preparation of the data directory and the store's keys."""

from __future__ import annotations

import sys
from pathlib import Path

from dome.credentials import (
    ADMIN_TOKEN_PREFIX,
    Keyring,
    generate_key,
    new_token,
    token_hash,
)
from dome.credentials.master_key import (
    keyring_from_env,
    load_or_create_key_file,
    write_private_file,
)
from dome.settings import Settings
from dome.store import Store

# Names of stored items, not secrets.
TOKEN_HASH_KEY = "token-hash-key"  # noqa: S105
AUDIT_CHAIN_KEY = "audit-chain-key"  # the HMAC key of the audit hash chain
STORED_KEYS = (TOKEN_HASH_KEY, AUDIT_CHAIN_KEY)  # random keys kept sealed in the store
ADMIN_TOKEN_HASH = "admin-token-hash"  # noqa: S105
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105
BROKER_URL_FILE = "broker.url"


def prepare_data_dir(settings: Settings) -> Keyring:
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if settings.master_key_env:
        return keyring_from_env(settings.master_key_env)
    return load_or_create_key_file(settings.data_dir)


async def load_stored_key(store: Store, keyring: Keyring, name: str) -> bytes:
    """One of `STORED_KEYS` (the agent-token hash key, the audit chain key): random,
    made once by whichever process gets there first, kept encrypted in the store."""
    stored = await store.get_key(name)
    if stored is None:
        fresh = keyring.encrypt(generate_key(), context=name)
        stored = await store.put_key_if_absent(name, fresh)
    return keyring.decrypt(stored, context=name)


async def ensure_admin_token(store: Store, token_key: bytes, data_dir: Path) -> str | None:
    """Create the admin token on the very first start; return it only then."""
    if await store.get_key(ADMIN_TOKEN_HASH) is not None:
        return None
    token = new_token(ADMIN_TOKEN_PREFIX)
    digest = token_hash(token_key, token).encode()
    if await store.put_key_if_absent(ADMIN_TOKEN_HASH, digest) != digest:
        return None  # another process created it first
    write_private_file(data_dir / ADMIN_TOKEN_FILE, token + "\n", exclusive=False)
    return token


def announce_admin_token(token: str, data_dir: Path) -> None:
    print(  # noqa: T201 - shown once, on purpose, to the operator's terminal
        f"dome: created the admin token (shown once, also saved to "
        f"{data_dir / ADMIN_TOKEN_FILE} with mode 0600):\n{token}",
        file=sys.stderr,
        flush=True,
    )


def write_broker_url(data_dir: Path, url: str) -> None:
    write_private_file(data_dir / BROKER_URL_FILE, url + "\n", exclusive=False)
