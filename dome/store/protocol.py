"""The Store seam: what the broker needs from durable storage, nothing about SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from dome.store.records import (
    UNSET,
    AgentRow,
    AuditRow,
    ConfigRows,
    ModelRow,
    PolicyRecord,
    PolicyVersion,
    PolicyVersionSummary,
    PoolRow,
    TenantRow,
    Unset,
    WorkspaceRow,
)


class Store(Protocol):
    """Durable config, policy versions, keys and audit. Every write that changes the
    config (publishing policies included) bumps the config version in the same
    transaction, so other processes notice it.

    Raises `dome.errors.ConflictError` for a duplicate name (pool and model names share
    one namespace) or for removing a model that is still a pool member, `NotFoundError`
    for a missing one (e.g. a workspace's tenant, or the target of an update). In
    updates an argument left `UNSET` keeps its value; `None` clears a nullable attribute.
    """

    async def close(self) -> None: ...

    # config
    async def config_version(self) -> int: ...
    async def load_config(self) -> ConfigRows: ...
    async def create_tenant(self, name: str, *, region: str | None = None) -> TenantRow: ...
    async def update_tenant(
        self, name: str, *, region: str | Unset | None = UNSET
    ) -> TenantRow: ...
    async def create_workspace(
        self,
        name: str,
        tenant: str,
        *,
        residency: str = "",
        max_classification: str = "restricted",
        classification_default: str | None = None,
        classification_floor: str | None = None,
        region: str | None = None,
    ) -> WorkspaceRow: ...
    async def update_workspace(
        self,
        name: str,
        *,
        residency: str | Unset = UNSET,
        max_classification: str | Unset = UNSET,
        classification_default: str | Unset | None = UNSET,
        classification_floor: str | Unset | None = UNSET,
        region: str | Unset | None = UNSET,
    ) -> WorkspaceRow: ...
    async def create_agent(
        self,
        name: str,
        workspace: str,
        token_hash: str,
        token_prefix: str,
        *,
        labels: Sequence[str] = (),
        classification_default: str | None = None,
        classification_floor: str | None = None,
    ) -> AgentRow: ...
    async def update_agent(
        self,
        name: str,
        *,
        labels: Sequence[str] | Unset = UNSET,
        classification_default: str | Unset | None = UNSET,
        classification_floor: str | Unset | None = UNSET,
    ) -> AgentRow: ...
    async def revoke_agent(self, name: str) -> AgentRow: ...
    async def add_model(self, row: ModelRow) -> ModelRow: ...
    async def update_model(
        self,
        name: str,
        *,
        region: str | Unset = UNSET,
        tier: str | Unset = UNSET,
        family: str | Unset | None = UNSET,
        input_price: str | Unset | None = UNSET,
        output_price: str | Unset | None = UNSET,
    ) -> ModelRow: ...
    async def remove_model(self, name: str) -> None: ...
    async def set_model_credential(self, name: str, credential: bytes | None) -> ModelRow: ...

    # pools: named groups of models; every change bumps the config version
    async def create_pool(
        self,
        name: str,
        *,
        match_when: Mapping[str, Sequence[str]] | None = None,
        strategy: str = "priority",
        order: int = 0,
    ) -> PoolRow: ...
    async def update_pool(
        self,
        name: str,
        *,
        match_when: Mapping[str, Sequence[str]] | Unset = UNSET,
        strategy: str | Unset = UNSET,
        order: int | Unset = UNSET,
    ) -> PoolRow: ...
    async def remove_pool(self, name: str) -> None: ...
    async def add_pool_member(
        self, pool: str, model: str, *, priority: int = 0, weight: int = 1
    ) -> PoolRow:
        """Add the member, or set its priority and weight when it is one already."""
        ...

    async def remove_pool_member(self, pool: str, model: str) -> PoolRow: ...

    # policies: versions 1, 2, ...; the newest is in force
    async def publish_policies(self, policies: Sequence[PolicyRecord], note: str) -> int:
        """Store the next version atomically (concurrent publishers get distinct
        numbers) and return its number."""
        ...

    async def policy_versions(self) -> list[PolicyVersionSummary]:
        """Every version, newest first."""
        ...

    async def policy_version(self, version: int) -> PolicyVersion | None: ...
    async def current_policies(self) -> PolicyVersion | None: ...

    # keys: small named blobs (e.g. the encrypted token-hash key, admin token hash)
    async def get_key(self, name: str) -> bytes | None: ...
    async def put_key_if_absent(self, name: str, value: bytes) -> bytes:
        """Store `value` unless the name exists; return what is stored (race-safe)."""
        ...

    async def replace_ciphertexts(
        self, models: Sequence[tuple[str, bytes | None]], keys: Sequence[tuple[str, bytes]]
    ) -> None:
        """Rewrite every model credential and key blob in one transaction (key rotation)."""
        ...

    # audit
    async def insert_audit(self, rows: Sequence[AuditRow]) -> None: ...
    async def tail_audit(self, limit: int) -> list[AuditRow]: ...
    async def recent_decisions(self, limit: int) -> list[AuditRow]:
        """The newest rows that carry a policy decision, newest first (for replay)."""
        ...
