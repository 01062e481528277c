"""The immutable in-memory config the hot path reads: built whole, swapped whole.

Credentials are decrypted here, once per snapshot, into `Secret`s, so a call never
touches the database or the cipher.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from dome.credentials import Keyring, Secret
from dome.store.records import AgentRow, ConfigRows, ModelRow


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    workspace: str
    tenant: str
    token_hash: str


@dataclass(frozen=True, slots=True)
class ModelEntry:
    name: str
    provider: str
    model: str
    base_url: str | None
    auth_method: str
    credential: Secret | None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConfigSnapshot:
    version: int
    agents_by_token_hash: Mapping[str, Agent]  # active agents only
    models: Mapping[str, ModelEntry]
    tenant_of_workspace: Mapping[str, str]

    @classmethod
    def empty(cls) -> ConfigSnapshot:
        return cls(0, MappingProxyType({}), MappingProxyType({}), MappingProxyType({}))


def credential_context(model_name: str) -> str:
    """Associated data binding a credential ciphertext to its model entry."""
    return f"model-credential:{model_name}"


def build_snapshot(rows: ConfigRows, keyring: Keyring) -> ConfigSnapshot:
    tenant_of = {workspace.name: workspace.tenant for workspace in rows.workspaces}
    agents = {
        row.token_hash: _agent(row, tenant_of) for row in rows.agents if row.status == "active"
    }
    models = {row.name: _model(row, keyring) for row in rows.models}
    return ConfigSnapshot(
        rows.version,
        MappingProxyType(agents),
        MappingProxyType(models),
        MappingProxyType(tenant_of),
    )


def _agent(row: AgentRow, tenant_of: Mapping[str, str]) -> Agent:
    return Agent(row.name, row.workspace, tenant_of[row.workspace], row.token_hash)


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
    )
