"""Model entries are validated in full before anything is stored."""

from __future__ import annotations

from typing import Any

import pytest

from dome.errors import InvalidRequestError
from dome.server.model_input import read_model_input


def test_defaults() -> None:
    model = read_model_input({"name": "demo", "provider": "mock"})
    assert (model.model, model.auth_method, model.credential_type, model.credential) == (
        "demo",
        "none",
        "none",
        None,
    )
    keyed = read_model_input(
        {"name": "a", "provider": "anthropic", "model": "claude-x", "credential": "sk"}
    )
    assert (keyed.auth_method, keyed.credential_type) == ("api-key", "shared")
    assert "sk" not in repr(keyed)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"provider": "mock"}, "name: field required"),
        ({"name": "x", "provider": "nope"}, "provider: unknown kind 'nope'"),
        ({"name": "x", "provider": "anthropic"}, "credential: required"),
        (
            {"name": "x", "provider": "openai", "auth_method": "none"},
            "auth_method: the openai provider needs api-key",
        ),
        ({"name": "x", "provider": "mock", "credential": "k"}, "mock provider takes no credential"),
        ({"name": "x", "provider": "openai-compatible"}, "base_url: required"),
        (
            {"name": "x", "provider": "openai-compatible", "base_url": "ftp://h"},
            "base_url: must be an http",
        ),
        ({"name": "x", "provider": "mock", "surprise": 1}, "surprise: unknown field"),
        (
            {"name": "x", "provider": "openai", "credential": "k", "credential_type": "per-agent"},
            "credential_type",
        ),
        (
            {"name": "x", "provider": "openai", "credential": "k", "auth_method": "oauth"},
            "auth_method: must be one of",
        ),
    ],
)
def test_bad_entries_name_the_field(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        read_model_input(body)
