"""Cedar authorization data: policy attributes of agents, workspaces and models, the
published policy versions, and the decision facts of each audit record.

Only adds columns (with defaults for existing rows) and one table, so it runs as plain
ALTER TABLE ADD COLUMN on SQLite and PostgreSQL: no table rebuild, no row rewritten.
Written out by hand and never edited once released; later changes are new revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column(
        "agents",
        sa.Column("labels", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column("agents", sa.Column("classification_default", sa.String(), nullable=True))
    op.add_column("agents", sa.Column("classification_floor", sa.String(), nullable=True))

    op.add_column(
        "workspaces", sa.Column("residency", sa.String(), nullable=False, server_default="")
    )
    op.add_column(
        "workspaces",
        sa.Column("max_classification", sa.String(), nullable=False, server_default="restricted"),
    )
    op.add_column("workspaces", sa.Column("classification_default", sa.String(), nullable=True))
    op.add_column("workspaces", sa.Column("classification_floor", sa.String(), nullable=True))

    op.add_column("models", sa.Column("region", sa.String(), nullable=False, server_default=""))
    op.add_column(
        "models", sa.Column("tier", sa.String(), nullable=False, server_default="standard")
    )
    op.add_column("models", sa.Column("family", sa.String(), nullable=True))

    op.add_column("audit", sa.Column("decision", sa.String(), nullable=True))
    op.add_column("audit", sa.Column("policy_ids", sa.JSON(), nullable=True))
    op.add_column("audit", sa.Column("policy_version", sa.Integer(), nullable=True))
    op.add_column("audit", sa.Column("policy_context", sa.JSON(), nullable=True))

    op.create_table(
        "policy_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("policies", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_policy_versions"),
    )


def downgrade() -> None:
    # Append-only history, as for 0001: a database moves forward only.
    msg = "downgrading below revision 0002 is not supported"
    raise NotImplementedError(msg)
