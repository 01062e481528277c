"""The Store seam: what the broker needs from durable storage, nothing about SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from dome.spend.ceilings import Metric, Period, ScopeKind
from dome.store.llm_calls_sql import CallFilter, SpendDimension, SpendLine
from dome.store.records import (
    UNSET,
    AgentRow,
    AuditRow,
    BudgetRow,
    ChainedAuditRow,
    ConfigRows,
    ModelRow,
    PolicyRecord,
    PolicyVersion,
    PolicyVersionSummary,
    PoolRow,
    SealedAuditRow,
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

    # budgets: at most one per scope, metric and period; every change bumps the version
    async def set_budget(
        self, scope_kind: ScopeKind, scope_name: str, metric: Metric, period: Period, limit: Decimal
    ) -> BudgetRow:
        """Add the budget, or change its limit when the scope already has one of this
        metric and period. `NotFoundError` when the agent, workspace or tenant does not
        exist (a revoked agent does)."""
        ...

    async def list_budgets(
        self, scope_kind: ScopeKind | None = None, scope_name: str | None = None
    ) -> list[BudgetRow]:
        """Every budget, or those of one scope kind (and name): agents, workspaces, then
        tenants; by name; tokens before USD; shortest period first."""
        ...

    async def remove_budget(
        self, scope_kind: ScopeKind, scope_name: str, metric: Metric, period: Period
    ) -> None:
        """`NotFoundError` when there is no such budget."""
        ...

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
    async def insert_audit(self, rows: Sequence[SealedAuditRow]) -> None:
        """Insert sealed records and move their chains' heads, in one transaction."""
        ...

    async def tail_audit(self, limit: int) -> list[AuditRow]:
        """The newest call records, newest first."""
        ...

    async def call_records(self, call_id: str) -> list[AuditRow]:
        """Every record of one call (start, attempts, end), in write order."""
        ...

    async def chained_records(
        self, after: tuple[str, int] | None, limit: int
    ) -> list[ChainedAuditRow]:
        """A page of chained records in (chain, seq) order (for verification)."""
        ...

    async def ended_calls(self, call_ids: Sequence[str]) -> set[str]:
        """Which of `call_ids` have an end record (recovering a dead writer's starts)."""
        ...

    async def unchained_count(self) -> int:
        """Records copied from before the hash chain existed."""
        ...

    async def chain_heads(self) -> dict[str, tuple[int, str]]:
        """Each chain's recorded (last_seq, last_hash)."""
        ...

    async def query_calls(self, where: CallFilter, limit: int) -> list[dict[str, Any]]:
        """Rows of the `llm_calls` view matching `where`, newest first."""
        ...

    async def spend_report(self, by: SpendDimension, where: CallFilter) -> list[SpendLine]:
        """Calls, outcomes, tokens and cost grouped by one dimension."""
        ...

    async def recent_decisions(self, limit: int) -> list[AuditRow]:
        """The newest rows that carry a policy decision, newest first (for replay)."""
        ...
