"""The snapshot built from config rows: policy attributes, workspaces, tenants, the
current policy version, model families derived from provider model ids, and the routing
config (pools, region pins, prices)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType

import pytest

from dome.credentials import Keyring, generate_key
from dome.errors import ConfigError
from dome.store import (
    AgentRow,
    ConfigRows,
    ModelRow,
    PolicyRecord,
    PolicyVersion,
    PoolMemberRow,
    PoolRow,
    TenantRow,
    WorkspaceRow,
)
from dome.store.snapshot import (
    Agent,
    ConfigSnapshot,
    ModelEntry,
    Pool,
    PoolMember,
    Workspace,
    build_snapshot,
    model_family,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-opus-4@20250514", "claude-opus-4"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("claude-haiku-4-5", "claude-haiku-4-5"),
        ("gpt-4o", "gpt-4o"),
        ("mock-1", "mock-1"),
        ("model-2025", "model-2025"),  # not a date: too short
        ("model-202509291", "model-202509291"),  # nine digits
        ("claude-20250929-preview", "claude-20250929-preview"),  # not at the end
        ("-20250929", "-20250929"),  # nothing would be left
    ],
)
def test_model_family_drops_only_a_trailing_release_date(model_id: str, family: str) -> None:
    assert model_family(model_id) == family


def rows() -> ConfigRows:
    policies = PolicyVersion(
        version=3,
        created_at=T0,
        note="apply rules.cedar at tenant:acme",
        policies=(PolicyRecord("acme.allow", "tenant:acme", "permit(...);", "rules.cedar"),),
        digest="d" * 64,
    )
    return ConfigRows(
        version=7,
        tenants=(TenantRow("zeta", T0), TenantRow("acme", T0)),
        workspaces=(
            WorkspaceRow("research", "acme", T0, "eu", "confidential", "internal", "public"),
            WorkspaceRow("lab", "zeta", T0),
        ),
        agents=(
            AgentRow(
                "planner",
                "research",
                "h1",
                "dome_p",
                "active",
                T0,
                labels=("team:ml", "batch"),
                classification_default="confidential",
                classification_floor="internal",
            ),
            AgentRow("gone", "lab", "h2", "dome_g", "revoked", T0, T0),
        ),
        models=(
            ModelRow(
                "sonnet", "anthropic", "claude-sonnet-4-5-20250929", None, "none", "none", None
            ),
            ModelRow(
                "fast",
                "openai",
                "gpt-4o-mini-2024-07-18",
                None,
                "none",
                "none",
                None,
                region="eu-west-1",
                tier="cheap",
                family="small-gpt",
            ),
        ),
        policies=policies,
    )


def test_build_snapshot_carries_the_policy_attributes() -> None:
    config = rows()

    snapshot = build_snapshot(config, Keyring((generate_key(),)))

    assert snapshot.version == 7
    assert snapshot.tenants == ("acme", "zeta")
    assert dict(snapshot.workspaces) == {
        "research": Workspace("research", "acme", "eu", "confidential", "internal", "public"),
        "lab": Workspace("lab", "zeta", "", "restricted", None, None),
    }
    assert dict(snapshot.tenant_of_workspace) == {"research": "acme", "lab": "zeta"}
    assert dict(snapshot.agents_by_token_hash) == {
        "h1": Agent(
            "planner", "research", "acme", "h1", ("team:ml", "batch"), "confidential", "internal"
        )
    }
    sonnet, fast = snapshot.models["sonnet"], snapshot.models["fast"]
    assert (sonnet.region, sonnet.tier, sonnet.family) == ("", "standard", "claude-sonnet-4-5")
    assert (fast.region, fast.tier, fast.family) == ("eu-west-1", "cheap", "small-gpt")
    assert snapshot.policies == config.policies
    assert isinstance(snapshot.workspaces, MappingProxyType)


def test_empty_snapshot_and_defaults_keep_older_constructors_working() -> None:
    empty = ConfigSnapshot.empty()

    assert (empty.version, dict(empty.workspaces), empty.tenants, empty.policies) == (
        0,
        {},
        (),
        None,
    )
    agent = Agent("a", "w", "t", "h")
    assert (agent.labels, agent.classification_default, agent.classification_floor) == (
        (),
        None,
        None,
    )
    entry = ModelEntry("m", "mock", "mock-1", None, "none", None)
    assert (entry.region, entry.tier, entry.family) == ("", "standard", "")


def routing_rows() -> ConfigRows:
    return replace(
        rows(),
        tenants=(TenantRow("zeta", T0), TenantRow("acme", T0, region="eu")),
        workspaces=(
            WorkspaceRow("research", "acme", T0, region="eu-2"),
            WorkspaceRow("lab", "zeta", T0),
        ),
        models=(
            ModelRow(
                "sonnet",
                "anthropic",
                "claude-sonnet-4-5",
                None,
                "none",
                "none",
                None,
                input_price="3.00",
                output_price="15",
            ),
            ModelRow("fast", "openai", "gpt-4o-mini", None, "none", "none", None),
        ),
        pools=(
            PoolRow(
                "cheap",
                {"request.model": ["claude-haiku-*", "gpt-5-mini"], "agent.tenant": ["acme"]},
                "weighted",
                -1,
                (PoolMemberRow("fast", 0, 3), PoolMemberRow("sonnet", 1, 1)),
                T0,
            ),
            PoolRow("any", {}),
        ),
    )


def test_build_snapshot_carries_the_routing_config() -> None:
    snapshot = build_snapshot(routing_rows(), Keyring((generate_key(),)))

    assert dict(snapshot.pools) == {
        "cheap": Pool(
            "cheap",
            {"request.model": ("claude-haiku-*", "gpt-5-mini"), "agent.tenant": ("acme",)},
            "weighted",
            -1,
            (PoolMember("fast", 0, 3), PoolMember("sonnet", 1, 1)),
        ),
        "any": Pool("any", {}, "priority", 0, ()),
    }
    assert isinstance(snapshot.pools, MappingProxyType)
    assert isinstance(snapshot.pools["cheap"].match_when, MappingProxyType)
    assert dict(snapshot.tenant_regions) == {"acme": "eu", "zeta": None}
    assert (snapshot.workspaces["research"].region, snapshot.workspaces["lab"].region) == (
        "eu-2",
        None,
    )
    sonnet, fast = snapshot.models["sonnet"], snapshot.models["fast"]
    assert (sonnet.input_price, sonnet.output_price) == (Decimal("3.00"), Decimal(15))
    assert isinstance(sonnet.input_price, Decimal)
    assert (fast.input_price, fast.output_price) == (None, None)


@pytest.mark.parametrize("price", ["cheap", "NaN", "-1", "Infinity"])
def test_a_stored_price_that_is_not_one_fails_the_snapshot(price: str) -> None:
    config = routing_rows()
    bad = replace(config.models[0], output_price=price)

    with pytest.raises(ConfigError, match="model 'sonnet': output_price"):
        build_snapshot(replace(config, models=(bad,)), Keyring((generate_key(),)))


def test_routing_defaults_keep_older_constructors_working() -> None:
    empty = ConfigSnapshot.empty()

    assert (dict(empty.pools), dict(empty.tenant_regions)) == ({}, {})
    assert Workspace("w", "t").region is None
    entry = ModelEntry("m", "mock", "mock-1", None, "none", None)
    assert (entry.input_price, entry.output_price) == (None, None)
    assert Pool("p", {}) == Pool("p", {}, "priority", 0, ())
    assert PoolMember("m") == PoolMember("m", 0, 1)
