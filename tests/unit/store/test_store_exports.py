"""The package's public names, and the SQL store against the Store Protocol."""

from __future__ import annotations

import dome.store
from dome.store import SqlStore, Store


def test_public_names() -> None:
    assert sorted(dome.store.__all__) == [
        "AgentRow",
        "AgentStatus",
        "AuditRow",
        "BudgetRow",
        "CALL_COLUMNS",
        "CallFilter",
        "ChainedAuditRow",
        "ConfigRows",
        "ModelRow",
        "PolicyRecord",
        "PolicyVersion",
        "PolicyVersionSummary",
        "PoolMemberRow",
        "PoolRow",
        "SPEND_DIMENSIONS",
        "SealedAuditRow",
        "SpendDimension",
        "SpendLine",
        "SqlStore",
        "Store",
        "TenantRow",
        "UNSET",
        "Unset",
        "WorkspaceRow",
        "given_or",
        "open_store",
        "policy_digest",
        "upgrade",
    ]
    for name in dome.store.__all__:
        assert getattr(dome.store, name) is not None


def test_sql_store_has_every_store_method() -> None:
    def as_store(store: SqlStore) -> Store:
        return store  # mypy checks the structural match

    protocol_methods = {
        name for name in vars(Store) if not name.startswith("_") and callable(getattr(Store, name))
    }
    assert protocol_methods <= set(dir(SqlStore))
    assert as_store is not None
