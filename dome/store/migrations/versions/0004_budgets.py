"""Spend ceilings: the budgets operators set, and the counters and reservations the SQL
counter backend keeps (the Redis backend keeps its own in Redis).

New tables only. Written out by hand and never edited once released; later changes are
new revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope_kind", sa.String(), nullable=False),
        sa.Column("scope_name", sa.String(), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        # Decimal text: whole tokens, or USD.
        sa.Column("limit_value", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_budgets"),
        sa.UniqueConstraint(
            "scope_kind", "scope_name", "metric", "period", name="uq_budgets_scope_kind"
        ),
        sa.CheckConstraint(
            "scope_kind IN ('agent', 'workspace', 'tenant')", name="ck_budgets_scope_kind"
        ),
        sa.CheckConstraint("metric IN ('tokens', 'usd')", name="ck_budgets_metric"),
        sa.CheckConstraint(
            "period IN ('hour', 'day', 'week', 'month', 'total')", name="ck_budgets_period"
        ),
    )
    op.create_table(
        "budget_counters",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
        sa.Column("reserved", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_budget_counters"),
    )
    op.create_table(
        "budget_reservations",
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("counter_key", sa.String(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("call_id", "counter_key", name="pk_budget_reservations"),
    )
    op.create_index("ix_budget_reservations_expires_at", "budget_reservations", ["expires_at"])


def downgrade() -> None:
    # Append-only history, as for the revisions before it: a database moves forward only.
    msg = "downgrading below revision 0004 is not supported"
    raise NotImplementedError(msg)
