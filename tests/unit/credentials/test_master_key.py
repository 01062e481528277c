"""Where the master keyring comes from, and that its file is private from the start."""

from __future__ import annotations

from pathlib import Path

import pytest

from dome.credentials import encode_key, generate_key
from dome.credentials.master_key import (
    keyring_from_env,
    load_or_create_key_file,
    read_key_file,
    write_key_file,
)
from dome.errors import ConfigError


def test_first_start_creates_a_0600_file_then_reuses_it(tmp_path: Path) -> None:
    first = load_or_create_key_file(tmp_path)
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600
    assert load_or_create_key_file(tmp_path).keys == first.keys


def test_file_with_several_keys_active_first(tmp_path: Path) -> None:
    keyring = load_or_create_key_file(tmp_path).with_new_active(generate_key())
    write_key_file(tmp_path, keyring)
    assert read_key_file(tmp_path / "master.key").keys == keyring.keys
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600


def test_environment_keys() -> None:
    new, old = generate_key(), generate_key()
    keyring = keyring_from_env(f"{encode_key(new)}, {encode_key(old)}")
    assert keyring.keys == (new, old)
    with pytest.raises(ConfigError):
        keyring_from_env(" , ")
