"""Durable storage: the `Store` seam, its SQL implementation (SQLite, PostgreSQL) and the
schema migrations. Other packages import from here, never from the submodules.
"""

from dome.store.llm_calls_sql import (
    CALL_COLUMNS,
    SPEND_DIMENSIONS,
    CallFilter,
    SpendDimension,
    SpendLine,
)
from dome.store.migrate import upgrade
from dome.store.policy_sql import policy_digest
from dome.store.protocol import Store
from dome.store.records import (
    UNSET,
    AgentRow,
    AgentStatus,
    AuditRow,
    BudgetRow,
    ChainedAuditRow,
    ConfigRows,
    ModelRow,
    PolicyRecord,
    PolicyVersion,
    PolicyVersionSummary,
    PoolMemberRow,
    PoolRow,
    SealedAuditRow,
    TenantRow,
    Unset,
    WorkspaceRow,
    given_or,
)
from dome.store.sql import SqlStore, open_store

__all__ = [
    "CALL_COLUMNS",
    "SPEND_DIMENSIONS",
    "UNSET",
    "AgentRow",
    "AgentStatus",
    "AuditRow",
    "BudgetRow",
    "CallFilter",
    "ChainedAuditRow",
    "ConfigRows",
    "ModelRow",
    "PolicyRecord",
    "PolicyVersion",
    "PolicyVersionSummary",
    "PoolMemberRow",
    "PoolRow",
    "SealedAuditRow",
    "SpendDimension",
    "SpendLine",
    "SqlStore",
    "Store",
    "TenantRow",
    "Unset",
    "WorkspaceRow",
    "given_or",
    "open_store",
    "policy_digest",
    "upgrade",
]
