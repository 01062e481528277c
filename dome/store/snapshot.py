"""The immutable in-memory config the hot path reads: built whole, swapped whole.

Credentials are decrypted here, once per snapshot, into `Secret`s, so a call never
touches the database or the cipher. Model families are derived here, and prices become
`Decimal`s. Pools are carried as stored; `dome.routing` interprets them. Each agent's
ceilings (its own, its workspace's, its tenant's) are gathered here, once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from dome.credentials import Keyring, Secret
from dome.errors import ConfigError
from dome.spend.ceilings import Ceiling, ScopeKind
from dome.store.records import (
    AgentRow,
    BudgetRow,
    ConfigRows,
    ModelRow,
    PolicyVersion,
    PoolRow,
    WorkspaceRow,
    budget_limit_problem,
    budget_order,
)

# A release date at the end of a provider model id: Anthropic's "-20250929", Vertex's
# "@20250514", OpenAI's "-2024-08-06".
_DATE_SUFFIX = re.compile(r"[-@](?:\d{8}|\d{4}-\d{2}-\d{2})$")


def model_family(model_id: str) -> str:
    """The family of a provider model id: the id without a trailing release date.

    "claude-sonnet-4-5-20250929" -> "claude-sonnet-4-5", "claude-opus-4@20250514" ->
    "claude-opus-4", "gpt-4o-mini-2024-07-18" -> "gpt-4o-mini"; an undated id is its
    own family.
    """
    return _DATE_SUFFIX.sub("", model_id) or model_id


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    workspace: str
    tenant: str
    token_hash: str
    labels: tuple[str, ...] = ()
    classification_default: str | None = None
    classification_floor: str | None = None


@dataclass(frozen=True, slots=True)
class Workspace:
    name: str
    tenant: str
    residency: str = ""  # "" when unrestricted
    max_classification: str = "restricted"  # restricted: no ceiling
    classification_default: str | None = None
    classification_floor: str | None = None
    region: str | None = None  # its region pin; None: the tenant's (`tenant_regions`)


@dataclass(frozen=True, slots=True)
class ModelEntry:
    name: str
    provider: str
    model: str
    base_url: str | None
    auth_method: str
    credential: Secret | None
    created_at: datetime | None = None
    region: str = ""
    tier: str = "standard"
    family: str = ""  # as set by the operator, else `model_family(model)`
    input_price: Decimal | None = None  # USD per million input tokens; None: unpriced
    output_price: Decimal | None = None  # USD per million output tokens


@dataclass(frozen=True, slots=True)
class PoolMember:
    model: str  # a key of `ConfigSnapshot.models`
    priority: int = 0
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Pool:
    """A pool as stored: `match_when` is the raw predicate (attribute -> patterns), for
    `dome.routing.parse_match_when`; `members` are sorted by (priority, model)."""

    name: str
    match_when: Mapping[str, tuple[str, ...]]
    strategy: str = "priority"  # priority | weighted | cost | cascade
    order: int = 0
    members: tuple[PoolMember, ...] = ()


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ConfigSnapshot:
    version: int
    agents_by_token_hash: Mapping[str, Agent]  # active agents only
    models: Mapping[str, ModelEntry]
    tenant_of_workspace: Mapping[str, str]
    workspaces: Mapping[str, Workspace] = field(default_factory=_empty)
    tenants: tuple[str, ...] = ()  # names, sorted
    policies: PolicyVersion | None = None  # the version in force; None before the first
    pools: Mapping[str, Pool] = field(default_factory=_empty)  # by name
    tenant_regions: Mapping[str, str | None] = field(default_factory=_empty)  # every tenant
    # Every agent by name, revoked ones too: the ceilings its calls are checked against.
    agent_ceilings: Mapping[str, tuple[Ceiling, ...]] = field(default_factory=_empty)

    def ceilings_for(self, agent: str) -> tuple[Ceiling, ...]:
        """The ceilings in the scope of the agent named `agent`: its own, then its
        workspace's, then its tenant's; () for an agent without any (or unknown)."""
        return self.agent_ceilings.get(agent, ())

    @classmethod
    def empty(cls) -> ConfigSnapshot:
        return cls(0, MappingProxyType({}), MappingProxyType({}), MappingProxyType({}))


def credential_context(model_name: str) -> str:
    """Associated data binding a credential ciphertext to its model entry."""
    return f"model-credential:{model_name}"


def build_snapshot(rows: ConfigRows, keyring: Keyring) -> ConfigSnapshot:
    workspaces = {row.name: _workspace(row) for row in rows.workspaces}
    tenant_of = {name: workspace.tenant for name, workspace in workspaces.items()}
    agents = {
        row.token_hash: _agent(row, tenant_of) for row in rows.agents if row.status == "active"
    }
    models = {row.name: _model(row, keyring) for row in rows.models}
    return ConfigSnapshot(
        rows.version,
        MappingProxyType(agents),
        MappingProxyType(models),
        MappingProxyType(tenant_of),
        workspaces=MappingProxyType(workspaces),
        tenants=tuple(sorted(tenant.name for tenant in rows.tenants)),
        policies=rows.policies,
        pools=MappingProxyType({row.name: _pool(row) for row in rows.pools}),
        tenant_regions=MappingProxyType({tenant.name: tenant.region for tenant in rows.tenants}),
        agent_ceilings=MappingProxyType(_agent_ceilings(rows, tenant_of)),
    )


def _agent_ceilings(
    rows: ConfigRows, tenant_of: Mapping[str, str]
) -> dict[str, tuple[Ceiling, ...]]:
    by_scope: dict[tuple[ScopeKind, str], list[Ceiling]] = {}
    for row in sorted(rows.budgets, key=budget_order):
        by_scope.setdefault((row.scope_kind, row.scope_name), []).append(_ceiling(row))
    none: list[Ceiling] = []
    return {
        agent.name: (
            *by_scope.get(("agent", agent.name), none),
            *by_scope.get(("workspace", agent.workspace), none),
            *by_scope.get(("tenant", tenant_of.get(agent.workspace, "")), none),
        )
        for agent in rows.agents
    }


def _ceiling(row: BudgetRow) -> Ceiling:
    problem = budget_limit_problem(row.metric, row.limit)
    if problem is not None:
        scope = f"{row.scope_kind} {row.scope_name!r}"
        raise ConfigError(f"{scope}: {row.metric} budget per {row.period}: {problem}")
    return Ceiling(row.scope_kind, row.scope_name, row.metric, row.period, row.limit)


def _workspace(row: WorkspaceRow) -> Workspace:
    return Workspace(
        row.name,
        row.tenant,
        row.residency,
        row.max_classification,
        row.classification_default,
        row.classification_floor,
        row.region,
    )


def _agent(row: AgentRow, tenant_of: Mapping[str, str]) -> Agent:
    return Agent(
        row.name,
        row.workspace,
        tenant_of[row.workspace],
        row.token_hash,
        row.labels,
        row.classification_default,
        row.classification_floor,
    )


def _model(row: ModelRow, keyring: Keyring) -> ModelEntry:
    credential = None
    if row.credential is not None:
        clear = keyring.decrypt(row.credential, context=credential_context(row.name))
        credential = Secret(clear.decode("utf-8"))
    return ModelEntry(
        row.name,
        row.provider,
        row.model,
        row.base_url,
        row.auth_method,
        credential,
        row.created_at,
        region=row.region,
        tier=row.tier,
        family=row.family if row.family is not None else model_family(row.model),
        input_price=_price(row.name, "input_price", row.input_price),
        output_price=_price(row.name, "output_price", row.output_price),
    )


def _price(model: str, field: str, text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        price = Decimal(text)
    except InvalidOperation as exc:
        raise ConfigError(f"model {model!r}: {field} {text!r} is not a decimal number") from exc
    if not price.is_finite() or price < 0:
        raise ConfigError(f"model {model!r}: {field} {text!r} is not a price")
    return price


def _pool(row: PoolRow) -> Pool:
    return Pool(
        row.name,
        MappingProxyType({key: tuple(values) for key, values in row.match_when.items()}),
        row.strategy,
        row.order,
        tuple(PoolMember(m.model, m.priority, m.weight) for m in row.members),
    )
