"""Entity JSON and context shape: both must be accepted by Cedar parsing with the schema."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import cedarpy
import pytest

from dome.errors import ConfigError
from dome.policy import (
    AgentInfo,
    ModelInfo,
    PolicyWorld,
    TenantInfo,
    WorkspaceInfo,
    build_entities,
    schema_text,
    tenant_entities,
)

from .worlds import WORLD, context


@pytest.fixture(scope="module")
def schema() -> cedarpy.Schema:
    return cedarpy.Schema.from_str(schema_text())


def test_all_entities_parse_with_the_schema(schema: cedarpy.Schema) -> None:
    entities = build_entities(WORLD)
    handle = cedarpy.Entities.from_json_str(json.dumps(entities), schema)
    assert len(entities) == 2 + 4 + 5 + 2 + 3 + 4  # tenants .. providers, pools, models
    assert len(handle) == len(entities) + 5  # the schema adds its 5 actions


def test_entity_references_use_the_entity_form_and_parents_link_the_scopes() -> None:
    by_uid = {(e["uid"]["type"], e["uid"]["id"]): e for e in _typed(build_entities(WORLD))}
    agent = by_uid["Agent", "analyst"]
    assert agent["attrs"] == {
        "name": "analyst",
        "tenant": {"__entity": {"type": "Tenant", "id": "acme"}},
        "workspace": {"__entity": {"type": "Workspace", "id": "research"}},
        "labels": ["batch"],
    }
    assert agent["parents"] == [{"type": "Workspace", "id": "research"}]
    workspace = by_uid["Workspace", "research"]
    assert workspace["attrs"]["max_classification_level"] == 2
    assert workspace["attrs"]["residency"] == "eu"
    model = by_uid["Model", "sonnet-eu"]
    assert model["parents"] == [
        {"type": "Pool", "id": "eu-only"},
        {"type": "Pool", "id": "frontier"},
        {"type": "Provider", "id": "anthropic"},
    ]
    assert model["attrs"]["provider"] == {"__entity": {"type": "Provider", "id": "anthropic"}}


def test_entities_mean_the_same_without_a_schema() -> None:
    # With `__entity`, `principal.workspace` is an entity even when no schema is given.
    result = cedarpy.is_authorized(
        {
            "principal": {"type": "Agent", "id": "planner"},
            "action": {"type": "Action", "id": "invoke"},
            "resource": {"type": "Model", "id": "haiku"},
            "context": {},
        },
        'permit(principal, action, resource) when { principal.workspace.residency == "eu" };',
        json.dumps(build_entities(WORLD)),
    )
    assert result.allowed
    assert result.diagnostics.errors == []


def test_tenant_entities_hold_only_that_tenants_scopes_and_the_whole_catalog(
    schema: cedarpy.Schema,
) -> None:
    entities = _typed(tenant_entities(WORLD, "globex"))
    uids = {(e["uid"]["type"], e["uid"]["id"]) for e in entities}
    assert ("Agent", "gx-bot") in uids
    assert ("Tenant", "globex") in uids
    assert {u for u in uids if u[0] in {"Agent", "Workspace", "Tenant"}} == {
        ("Agent", "gx-bot"),
        ("Workspace", "gx-lab"),
        ("Tenant", "globex"),
    }
    assert {u for u in uids if u[0] == "Model"} == {("Model", m.name) for m in WORLD.models}
    cedarpy.Entities.from_json_str(json.dumps(entities), schema)


def test_context_has_only_integers_strings_and_booleans() -> None:
    cedar = context(classification="confidential", tokens=12_345, stream=True).to_cedar()
    assert cedar == {
        "requested_model": "haiku",
        "classification": "confidential",
        "classification_level": 2,
        "region": "eu-west-1",
        "estimated_tokens": 12_345,
        "stream": True,
        "format": "openai",
        "now": "2026-11-26T10:00:00Z",
        "hour": 10,
        "weekday": 4,
    }


def test_context_time_is_utc_whatever_the_zone_given() -> None:
    tokyo = timezone(timedelta(hours=9))
    cedar = context(now=datetime(2026, 11, 30, 1, 30, 15, 999_999, tzinfo=tokyo)).to_cedar()
    assert cedar["now"] == "2026-11-29T16:30:15Z"
    assert (cedar["hour"], cedar["weekday"]) == (16, 7)  # Sunday


def test_context_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        context(now=datetime(2026, 11, 26, 10, 0))  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize("action", ["invoke", "embed", "count_tokens", "list_models"])
def test_context_is_accepted_by_cedar_with_the_schema(schema: cedarpy.Schema, action: str) -> None:
    entities = cedarpy.Entities.from_json_str(json.dumps(build_entities(WORLD)), schema)
    result = cedarpy.is_authorized(
        {
            "principal": {"type": "Agent", "id": "planner"},
            "action": {"type": "Action", "id": action},
            "resource": {"type": "Model", "id": "haiku"},
            "context": context().to_cedar(),
        },
        'permit(principal, action, resource) when { context.now > datetime("2026-01-01") };',
        entities,
        schema,
    )
    assert result.decision == cedarpy.Decision.Allow, result.diagnostics.errors


def test_world_rejects_dangling_and_repeated_names() -> None:
    tenant = (TenantInfo("acme"),)
    with pytest.raises(ConfigError, match="unknown tenant 'nope'"):
        PolicyWorld(tenant, (WorkspaceInfo("w", "nope"),), (), ())
    with pytest.raises(ConfigError, match="unknown workspace 'w'"):
        PolicyWorld(tenant, (), (AgentInfo("a", "w"),), ())
    workspace = (WorkspaceInfo("w", "acme"),)
    with pytest.raises(ConfigError, match="agent names must be unique: 'a'"):
        PolicyWorld(tenant, workspace, (AgentInfo("a", "w"), AgentInfo("a", "w")), ())
    with pytest.raises(ConfigError, match="workspace 'w': unknown classification 'secret'"):
        PolicyWorld(tenant, (WorkspaceInfo("w", "acme", max_classification="secret"),), (), ())
    with pytest.raises(ConfigError, match="empty provider kind or pool name"):
        PolicyWorld(tenant, (), (), (ModelInfo("m", "m", "f", "openai", pools=("",)),))


def test_world_derives_pools_and_providers() -> None:
    assert WORLD.pools == ("cheap-reasoning", "eu-only", "frontier")
    assert WORLD.provider_kinds == ("anthropic", "openai")


def _typed(entities: list[dict[str, object]]) -> list[dict[str, Any]]:
    """The entities as plain JSON values, to index into."""
    return json.loads(json.dumps(entities))  # type: ignore[no-any-return]
