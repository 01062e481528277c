"""Where a policy applies: platform, a tenant, a workspace or one agent.

Pure values; the directory of who belongs where comes from the caller's config snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from dome.errors import ConfigError

ScopeKind = Literal["platform", "tenant", "workspace", "agent"]
_NAMED_KINDS: Final[Mapping[str, ScopeKind]] = {
    "tenant": "tenant",
    "workspace": "workspace",
    "agent": "agent",
}
# The Cedar entity type of the principals each kind of scope names.
ENTITY_TYPES: Final[Mapping[ScopeKind, str]] = {
    "tenant": "Tenant",
    "workspace": "Workspace",
    "agent": "Agent",
}


@dataclass(frozen=True, slots=True)
class Scope:
    """`platform`, or a kind and a name: `tenant:acme`, `workspace:research`, `agent:bot`."""

    kind: ScopeKind
    name: str = ""

    def __post_init__(self) -> None:
        if (self.kind == "platform") != (self.name == ""):
            raise ValueError(f"scope {self.kind!r} with name {self.name!r}")

    def __str__(self) -> str:
        return "platform" if self.kind == "platform" else f"{self.kind}:{self.name}"


PLATFORM: Final = Scope("platform")


def parse_scope(text: str) -> Scope:
    """`"platform"`, `"tenant:T"`, `"workspace:W"` or `"agent:A"` as a `Scope`."""
    if text == "platform":
        return PLATFORM
    kind, _, name = text.partition(":")
    known = _NAMED_KINDS.get(kind)
    if known is not None and name and name.strip() == name:
        return Scope(known, name)
    raise ConfigError(
        f"bad scope {text!r}: use platform, tenant:NAME, workspace:NAME or agent:NAME",
        param="scope",
    )


@dataclass(frozen=True, slots=True)
class ScopeDirectory:
    """Who belongs where: the tenants, each workspace's tenant and each agent's workspace."""

    tenants: frozenset[str]
    tenant_of_workspace: Mapping[str, str]
    workspace_of_agent: Mapping[str, str]

    def exists(self, scope: Scope) -> bool:
        return self.chain(scope) is not None

    def chain(self, scope: Scope) -> tuple[Scope, ...] | None:
        """`scope` and every scope it lies in, innermost first; None if it is unknown.

        Platform is left out: everything lies in it.
        """
        if scope.kind == "platform":
            return ()
        if scope.kind == "agent":
            workspace = self.workspace_of_agent.get(scope.name)
            outer = None if workspace is None else self.chain(Scope("workspace", workspace))
        elif scope.kind == "workspace":
            tenant = self.tenant_of_workspace.get(scope.name)
            outer = None if tenant is None else self.chain(Scope("tenant", tenant))
        else:
            outer = () if scope.name in self.tenants else None
        return None if outer is None else (scope, *outer)

    def tenant_of(self, scope: Scope) -> str | None:
        """The tenant `scope` lies in; None for platform or an unknown scope."""
        chain = self.chain(scope)
        return chain[-1].name if chain else None
