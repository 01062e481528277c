"""Scopes: parsing `--scope` text and who lies inside which scope."""

from __future__ import annotations

import pytest

from dome.errors import ConfigError
from dome.policy import PLATFORM, Scope, parse_scope

from .worlds import WORLD


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("platform", PLATFORM),
        ("tenant:acme", Scope("tenant", "acme")),
        ("workspace:research", Scope("workspace", "research")),
        ("agent:acme/support/bot", Scope("agent", "acme/support/bot")),
        ("agent:a:b", Scope("agent", "a:b")),
    ],
)
def test_parse_scope_round_trips(text: str, scope: Scope) -> None:
    assert parse_scope(text) == scope
    assert str(scope) == text


@pytest.mark.parametrize(
    "text", ["", "tenant", "tenant:", "team:x", "platform:x", "Tenant:acme", "tenant: acme"]
)
def test_bad_scope_text_is_a_config_error_saying_what_is_allowed(text: str) -> None:
    with pytest.raises(ConfigError, match="use platform, tenant:NAME") as caught:
        parse_scope(text)
    assert caught.value.param == "scope"


def test_scope_needs_a_name_unless_platform() -> None:
    with pytest.raises(ValueError, match="scope"):
        Scope("tenant")
    with pytest.raises(ValueError, match="scope"):
        Scope("platform", "x")


def test_directory_chains_agent_to_workspace_to_tenant() -> None:
    directory = WORLD.directory()
    assert directory.chain(Scope("agent", "planner")) == (
        Scope("agent", "planner"),
        Scope("workspace", "research"),
        Scope("tenant", "acme"),
    )
    assert directory.chain(PLATFORM) == ()
    assert directory.chain(Scope("agent", "nobody")) is None
    assert directory.tenant_of(Scope("workspace", "gx-lab")) == "globex"
    assert directory.tenant_of(PLATFORM) is None
    assert directory.exists(Scope("tenant", "acme"))
    assert not directory.exists(Scope("tenant", "initech"))
