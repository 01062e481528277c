"""The immutable in-memory config the hot path reads: built whole, swapped whole.

Credentials are decrypted here, once per snapshot, into `Secret`s, so a call never
touches the database or the cipher. Model families are derived here too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from dome.credentials import Keyring, Secret
from dome.store.records import AgentRow, ConfigRows, ModelRow, PolicyVersion, WorkspaceRow

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


def _empty() -> Mapping[str, Workspace]:
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
    )


def _workspace(row: WorkspaceRow) -> Workspace:
    return Workspace(
        row.name,
        row.tenant,
        row.residency,
        row.max_classification,
        row.classification_default,
        row.classification_floor,
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
    )
