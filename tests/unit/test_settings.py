"""Settings come from flags over environment over defaults, validated once."""

from __future__ import annotations

from pathlib import Path

import pytest

from dome import settings
from dome.errors import ConfigError


def test_defaults_use_the_data_dir(tmp_path: Path) -> None:
    loaded = settings.load({"DOME_HOME": str(tmp_path)})
    assert loaded.data_dir == tmp_path.resolve()
    assert loaded.database_url == f"sqlite:///{tmp_path.resolve() / 'dome.db'}"
    assert (loaded.host, loaded.port) == ("127.0.0.1", 8480)
    assert loaded.master_key_env is None


def test_flags_beat_environment(tmp_path: Path) -> None:
    loaded = settings.load(
        {"DOME_HOME": "/elsewhere", "DOME_PORT": "1", "DOME_HOST": "0.0.0.0"},
        data_dir=tmp_path,
        port=9,
        host="127.0.0.2",
    )
    assert (loaded.data_dir, loaded.port, loaded.host) == (tmp_path.resolve(), 9, "127.0.0.2")


def test_master_key_is_not_in_the_repr(tmp_path: Path) -> None:
    loaded = settings.load({"DOME_MASTER_KEY": "c2VjcmV0LWtleS1tYXRlcmlhbA=="}, data_dir=tmp_path)
    assert "c2VjcmV0" not in repr(loaded)


def test_bad_numbers_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DOME_PORT must be an integer"):
        settings.load({"DOME_PORT": "eighty"}, data_dir=tmp_path)
    with pytest.raises(ConfigError, match="DOME_CONFIG_POLL_SECONDS"):
        settings.load({"DOME_CONFIG_POLL_SECONDS": "soon"}, data_dir=tmp_path)
