"""Fixtures for CLI tests: a fake admin API and a data directory holding its token."""

from __future__ import annotations

from pathlib import Path

import pytest

from .fake_admin import ADMIN_TOKEN, FakeAdminApi
from .harness import Dome


@pytest.fixture
def api() -> FakeAdminApi:
    return FakeAdminApi()


@pytest.fixture
def dome(api: FakeAdminApi, tmp_path: Path) -> Dome:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "admin-token").write_text(ADMIN_TOKEN + "\n", encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    return Dome(api=api, data_dir=data_dir, home=home)
