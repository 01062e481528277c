"""`dome admin rotate-master-key`."""

from __future__ import annotations

import json

from .fake_admin import FakeAdminApi
from .harness import SEED, Dome, assert_exit


def test_rotate_prints_the_new_key_id_and_count(dome: Dome, api: FakeAdminApi) -> None:
    dome.run(*SEED, "--credential-stdin", input="sk-1")
    result = dome.run("admin", "rotate-master-key")
    assert_exit(result, 0)
    assert result.stdout.splitlines() == [
        "active master key id: k2",
        "ciphertexts re-encrypted: 1",
    ]
    assert api.requests[-1].method == "POST"
    assert api.requests[-1].url.path == "/admin/v1/master-key/rotate"


def test_rotate_json(dome: Dome) -> None:
    result = dome.run("admin", "rotate-master-key", "-o", "json")
    assert_exit(result, 0)
    assert json.loads(result.stdout) == {"active_key_id": "k2", "reencrypted": 0}
