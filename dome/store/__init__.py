"""Durable storage: the `Store` seam, its SQL implementation (SQLite, PostgreSQL) and the
schema migrations. Other packages import from here, never from the submodules.
"""

from dome.store.migrate import upgrade
from dome.store.protocol import Store
from dome.store.records import (
    AgentRow,
    AgentStatus,
    AuditRow,
    ConfigRows,
    ModelRow,
    TenantRow,
    WorkspaceRow,
)
from dome.store.sql import SqlStore, open_store

__all__ = [
    "AgentRow",
    "AgentStatus",
    "AuditRow",
    "ConfigRows",
    "ModelRow",
    "SqlStore",
    "Store",
    "TenantRow",
    "WorkspaceRow",
    "open_store",
    "upgrade",
]
