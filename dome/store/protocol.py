"""The Store seam: what the broker needs from durable storage, nothing about SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dome.store.records import (
    AgentRow,
    AuditRow,
    ConfigRows,
    ModelRow,
    TenantRow,
    WorkspaceRow,
)


class Store(Protocol):
    """Durable config, keys and audit. Every write that changes the config bumps the
    config version in the same transaction, so other processes notice it.

    Raises `dome.errors.ConflictError` for a duplicate name, `NotFoundError` for a
    missing one (e.g. a workspace's tenant).
    """

    async def close(self) -> None: ...

    # config
    async def config_version(self) -> int: ...
    async def load_config(self) -> ConfigRows: ...
    async def create_tenant(self, name: str) -> TenantRow: ...
    async def create_workspace(self, name: str, tenant: str) -> WorkspaceRow: ...
    async def create_agent(
        self, name: str, workspace: str, token_hash: str, token_prefix: str
    ) -> AgentRow: ...
    async def revoke_agent(self, name: str) -> AgentRow: ...
    async def add_model(self, row: ModelRow) -> ModelRow: ...
    async def remove_model(self, name: str) -> None: ...
    async def set_model_credential(self, name: str, credential: bytes | None) -> ModelRow: ...

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
