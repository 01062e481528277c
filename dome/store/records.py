"""Rows of the operator config and of the audit log, as frozen values.

The store reads and writes these; the snapshot is built from them. Secrets appear here
only as ciphertext (`bytes`), never in clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

AgentStatus = Literal["active", "revoked"]


@dataclass(frozen=True, slots=True)
class TenantRow:
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WorkspaceRow:
    name: str
    tenant: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AgentRow:
    name: str
    workspace: str
    token_hash: str  # hex keyed hash (HMAC-SHA256) of the Dome token
    token_prefix: str  # the first characters of the token, for humans to tell tokens apart
    status: AgentStatus
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ModelRow:
    name: str  # what agents ask for, e.g. "claude-sonnet-4-6" or an alias
    provider: str  # provider kind: openai | anthropic | openai-compatible | mock
    model: str  # the provider's own model id
    base_url: str | None
    auth_method: str  # api-key | none
    credential_type: str  # shared | none
    credential: bytes | None  # ciphertext (see dome.credentials), None when keyless
    options: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConfigRows:
    """Everything the snapshot is built from, read in one transaction."""

    version: int
    tenants: tuple[TenantRow, ...]
    workspaces: tuple[WorkspaceRow, ...]
    agents: tuple[AgentRow, ...]
    models: tuple[ModelRow, ...]


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One call's record. Later issues grow it into the full llm.* vocabulary."""

    call_id: str
    started_at: datetime
    agent: str | None
    workspace: str | None
    tenant: str | None
    endpoint: str  # chat | messages | ...
    requested_model: str | None
    served_model: str | None
    model_entry: str | None
    provider: str | None
    format_in: str
    format_out: str | None
    stream: bool
    status: int
    error_type: str | None
    latency_ms: float
    ttft_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    usage: dict[str, Any] | None  # usage exactly as the provider reported it
