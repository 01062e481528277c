"""Where the master keyring comes from: DOME_MASTER_KEY, or a 0600 file in the data dir.

The file holds one base64 key per line, the active key first. It is created on the
first start when no key is given in the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

from dome.credentials.keyring import Keyring, decode_key, encode_key, generate_key
from dome.errors import ConfigError

MASTER_KEY_FILE = "master.key"


def keyring_from_env(value: str) -> Keyring:
    keys = tuple(decode_key(part) for part in value.split(",") if part.strip())
    if not keys:
        msg = "DOME_MASTER_KEY is set but holds no key"
        raise ConfigError(msg)
    return Keyring(keys)


def load_or_create_key_file(data_dir: Path) -> Keyring:
    path = data_dir / MASTER_KEY_FILE
    if not path.exists():
        write_private_file(path, encode_key(generate_key()) + "\n", exclusive=True)
    return read_key_file(path)


def read_key_file(path: Path) -> Keyring:
    lines = [line for line in path.read_text("ascii").splitlines() if line.strip()]
    if not lines:
        msg = f"{path} holds no key"
        raise ConfigError(msg)
    return Keyring(tuple(decode_key(line) for line in lines))


def write_key_file(data_dir: Path, keyring: Keyring) -> None:
    text = "".join(encode_key(key) + "\n" for key in keyring.keys)
    write_private_file(data_dir / MASTER_KEY_FILE, text, exclusive=False)


def write_private_file(path: Path, text: str, *, exclusive: bool) -> None:
    """Write `text` to `path` with mode 0600 from the start, atomically.

    With `exclusive`, an existing file is left alone (another process won the race).
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    if exclusive:
        try:
            os.link(temporary, path)  # fails if the path exists: first writer wins
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    else:
        temporary.replace(path)
