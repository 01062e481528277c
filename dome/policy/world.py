"""What the policy engine knows of the config: tenants, workspaces, agents and models.

Plain frozen data; the server builds it from its config snapshot. Checked whole on
construction, so the engine never meets a dangling reference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from dome.errors import ConfigError
from dome.policy.classification import parse_label
from dome.policy.scope import ScopeDirectory


@dataclass(frozen=True, slots=True)
class TenantInfo:
    name: str


@dataclass(frozen=True, slots=True)
class WorkspaceInfo:
    name: str
    tenant: str
    residency: str = ""  # where its data must stay, e.g. "eu"; "" when unrestricted
    max_classification: str = "restricted"  # the highest label its calls may carry


@dataclass(frozen=True, slots=True)
class AgentInfo:
    name: str
    workspace: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One configured model entry: Cedar's `Model`, in its pools and its provider."""

    name: str  # the entry name agents ask for
    model_id: str  # the provider's model id
    family: str
    provider_kind: str
    region: str = ""
    tier: str = "standard"
    pools: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicyWorld:
    tenants: tuple[TenantInfo, ...]
    workspaces: tuple[WorkspaceInfo, ...]
    agents: tuple[AgentInfo, ...]
    models: tuple[ModelInfo, ...]

    def __post_init__(self) -> None:
        _unique("tenant", (t.name for t in self.tenants))
        _unique("workspace", (w.name for w in self.workspaces))
        _unique("agent", (a.name for a in self.agents))
        _unique("model", (m.name for m in self.models))
        tenants = {t.name for t in self.tenants}
        workspaces = {w.name for w in self.workspaces}
        for workspace in self.workspaces:
            if workspace.tenant not in tenants:
                raise ConfigError(
                    f"workspace {workspace.name!r}: unknown tenant {workspace.tenant!r}"
                )
            try:
                parse_label(workspace.max_classification)
            except ConfigError as exc:
                raise ConfigError(f"workspace {workspace.name!r}: {exc.message}") from exc
        for agent in self.agents:
            if agent.workspace not in workspaces:
                raise ConfigError(f"agent {agent.name!r}: unknown workspace {agent.workspace!r}")
        for model in self.models:
            if not model.provider_kind or not all(model.pools):
                raise ConfigError(f"model {model.name!r}: empty provider kind or pool name")

    @property
    def pools(self) -> tuple[str, ...]:
        """Every pool some model is a member of, sorted."""
        return tuple(sorted({pool for model in self.models for pool in model.pools}))

    @property
    def provider_kinds(self) -> tuple[str, ...]:
        return tuple(sorted({model.provider_kind for model in self.models}))

    def directory(self) -> ScopeDirectory:
        return ScopeDirectory(
            tenants=frozenset(t.name for t in self.tenants),
            tenant_of_workspace={w.name: w.tenant for w in self.workspaces},
            workspace_of_agent={a.name: a.workspace for a in self.agents},
        )


def _unique(kind: str, names: Iterable[str]) -> None:
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise ConfigError(f"{kind} names must be unique: {', '.join(map(repr, repeated))}")
