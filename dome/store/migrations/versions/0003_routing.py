"""Routing configuration: region pins of tenants and workspaces, model prices, pools and
their members, and the attempts and pool of each audit record.

Adds nullable columns and two tables only, so it runs as plain ALTER TABLE ADD COLUMN
and CREATE TABLE on SQLite and PostgreSQL: no table rebuild, no row rewritten.
Written out by hand and never edited once released; later changes are new revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("region", sa.String(), nullable=True))
    op.add_column("workspaces", sa.Column("region", sa.String(), nullable=True))

    # USD per million tokens as Decimal text, never floats.
    op.add_column("models", sa.Column("input_price", sa.String(), nullable=True))
    op.add_column("models", sa.Column("output_price", sa.String(), nullable=True))

    op.add_column("audit", sa.Column("attempts", sa.JSON(), nullable=True))
    op.add_column("audit", sa.Column("pool", sa.String(), nullable=True))

    op.create_table(
        "pools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("match_when", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("strategy", sa.String(), nullable=False, server_default="priority"),
        sa.Column("sort_order", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pools"),
        sa.UniqueConstraint("name", name="uq_pools_name"),
    )
    op.create_table(
        "pool_members",
        sa.Column("pool_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("model_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("weight", sa.Integer(), nullable=False, server_default=sa.text("1")),
        sa.PrimaryKeyConstraint("pool_id", "model_id", name="pk_pool_members"),
        sa.ForeignKeyConstraint(["pool_id"], ["pools.id"], name="fk_pool_members_pool_id_pools"),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name="fk_pool_members_model_id_models"
        ),
        sa.CheckConstraint("weight >= 1", name="ck_pool_members_weight"),
    )


def downgrade() -> None:
    # Append-only history, as for 0001 and 0002: a database moves forward only.
    msg = "downgrading below revision 0003 is not supported"
    raise NotImplementedError(msg)
