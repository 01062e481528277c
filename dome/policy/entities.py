"""The config as Cedar entity JSON: tenants, workspaces, agents, models, pools, providers.

Entity references in attributes use the `__entity` form, so the JSON means the same
with or without a schema (without one, a bare {"type", "id"} would be a record).
"""

from __future__ import annotations

from dome.policy.classification import LEVELS, parse_label
from dome.policy.world import AgentInfo, ModelInfo, PolicyWorld, WorkspaceInfo

Entity = dict[str, object]


def uid(entity_type: str, entity_id: str) -> dict[str, str]:
    return {"type": entity_type, "id": entity_id}


def ref(entity_type: str, entity_id: str) -> dict[str, dict[str, str]]:
    """An entity reference as an attribute value."""
    return {"__entity": uid(entity_type, entity_id)}


def build_entities(world: PolicyWorld) -> list[Entity]:
    """Every entity of `world`."""
    return [
        *(_tenant(t.name) for t in world.tenants),
        *(_workspace(w) for w in world.workspaces),
        *_agents(world, world.agents),
        *catalog_entities(world),
    ]


def tenant_entities(world: PolicyWorld, tenant: str) -> list[Entity]:
    """`tenant` with its workspaces and agents, plus the shared catalog (models, pools,
    providers): everything a decision for one of its agents can reach."""
    workspaces = [w for w in world.workspaces if w.tenant == tenant]
    names = {w.name for w in workspaces}
    agents = [a for a in world.agents if a.workspace in names]
    return [
        _tenant(tenant),
        *(_workspace(w) for w in workspaces),
        *_agents(world, agents),
        *catalog_entities(world),
    ]


def catalog_entities(world: PolicyWorld) -> list[Entity]:
    """Models, pools and providers."""
    return [
        *(_plain("Provider", kind, {"kind": kind}) for kind in world.provider_kinds),
        *(_plain("Pool", pool, {"name": pool}) for pool in world.pools),
        *(_model(m) for m in world.models),
    ]


def _plain(entity_type: str, name: str, attrs: dict[str, object]) -> Entity:
    return {"uid": uid(entity_type, name), "attrs": attrs, "parents": []}


def _tenant(name: str) -> Entity:
    return _plain("Tenant", name, {"name": name})


def _workspace(workspace: WorkspaceInfo) -> Entity:
    return {
        "uid": uid("Workspace", workspace.name),
        "attrs": {
            "name": workspace.name,
            "tenant": ref("Tenant", workspace.tenant),
            "residency": workspace.residency,
            "max_classification_level": LEVELS[parse_label(workspace.max_classification)],
        },
        "parents": [uid("Tenant", workspace.tenant)],
    }


def _agents(world: PolicyWorld, agents: list[AgentInfo] | tuple[AgentInfo, ...]) -> list[Entity]:
    tenant_of = {w.name: w.tenant for w in world.workspaces}
    return [
        {
            "uid": uid("Agent", agent.name),
            "attrs": {
                "name": agent.name,
                "tenant": ref("Tenant", tenant_of[agent.workspace]),
                "workspace": ref("Workspace", agent.workspace),
                "labels": sorted(set(agent.labels)),
            },
            "parents": [uid("Workspace", agent.workspace)],
        }
        for agent in agents
    ]


def _model(model: ModelInfo) -> Entity:
    return {
        "uid": uid("Model", model.name),
        "attrs": {
            "name": model.name,
            "model_id": model.model_id,
            "family": model.family,
            "provider": ref("Provider", model.provider_kind),
            "region": model.region,
            "tier": model.tier,
        },
        "parents": [
            *(uid("Pool", pool) for pool in sorted(set(model.pools))),
            uid("Provider", model.provider_kind),
        ],
    }
