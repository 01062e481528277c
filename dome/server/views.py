"""JSON views of store rows for the admin API; secrets never appear in them."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from dome.credentials.keyring import ciphertext_key_id
from dome.store import AgentRow, AuditRow, ModelRow, PoolRow, TenantRow, WorkspaceRow
from dome.store.snapshot import model_family


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def tenant_view(row: TenantRow) -> dict[str, Any]:
    return {"name": row.name, "region": row.region, "created_at": iso(row.created_at)}


def workspace_view(row: WorkspaceRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "tenant": row.tenant,
        "residency": row.residency,
        "max_classification": row.max_classification,
        "classification_default": row.classification_default,
        "classification_floor": row.classification_floor,
        "region": row.region,  # the region pin; null: the tenant's
        "created_at": iso(row.created_at),
    }


def agent_view(row: AgentRow, tenant: str | None) -> dict[str, Any]:
    return {
        "name": row.name,
        "workspace": row.workspace,
        "tenant": tenant,
        "token_prefix": row.token_prefix,
        "status": row.status,
        "labels": list(row.labels),
        "classification_default": row.classification_default,
        "classification_floor": row.classification_floor,
        "created_at": iso(row.created_at),
        "revoked_at": iso(row.revoked_at),
    }


def model_view(row: ModelRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "provider": row.provider,
        "model": row.model,
        "base_url": row.base_url,
        "auth_method": row.auth_method,
        "credential_type": row.credential_type,
        "has_credential": row.credential is not None,
        "credential_key_id": ciphertext_key_id(row.credential) if row.credential else None,
        "region": row.region,
        "tier": row.tier,
        "family": row.family,  # as set; null when derived from the model id
        "effective_family": row.family if row.family is not None else model_family(row.model),
        "input_price": row.input_price,  # Decimal text, USD per million tokens, or null
        "output_price": row.output_price,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def audit_view(row: AuditRow) -> dict[str, Any]:
    """One audit record with every field of the llm.* vocabulary (docs/audit.md)."""
    view = {name: getattr(row, name) for name in AUDIT_VIEW_FIELDS}
    view["started_at"] = iso(row.started_at)
    return view


AUDIT_VIEW_FIELDS = tuple(f.name for f in fields(AuditRow))


def pool_view(row: PoolRow) -> dict[str, Any]:
    members = sorted(row.members, key=lambda member: (member.priority, member.model))
    return {
        "name": row.name,
        "match_when": row.match_when,
        "strategy": row.strategy,
        "order": row.order,
        "members": [
            {"model": member.model, "priority": member.priority, "weight": member.weight}
            for member in members
        ],
        "created_at": iso(row.created_at),
    }
