"""The durable llm.* audit: append-only, hash-chained records (a call's start, each
upstream attempt, the call's end) replace the one-row-per-call `audit` table, and the
`llm_calls` / `llm_attempts` views answer spend, decision and outcome questions in one
SELECT (docs/audit.md).

Rows of the old table are copied as call records outside any hash chain (`chain` NULL:
`dome audit verify` counts them as unchained), then the old table is dropped.
Written out by hand and never edited once released; later changes are new revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

# Columns the old table had, copied as they are.
_KEPT = (
    "call_id, started_at, agent, workspace, tenant, endpoint, requested_model, served_model, "
    "model_entry, provider, format_in, format_out, stream, status, error_type, latency_ms, "
    "ttft_ms, input_tokens, output_tokens, usage, decision, policy_ids, policy_version, "
    "policy_context, attempts, pool"
)

# What the old rows can say about their outcome.
_LEGACY_OUTCOME = (
    "CASE WHEN status < 400 THEN 'ok' "
    "WHEN status = 499 THEN 'client_disconnected' "
    "WHEN decision = 'deny' THEN 'denied_policy' "
    "WHEN provider IS NOT NULL AND status >= 500 THEN 'upstream_error' "
    "ELSE 'rejected' END"
)

# One row per call: its end record, or its start record when the broker never wrote an
# end (the process died mid-call): then the outcome is 'incomplete'.
_CALL_COLUMNS = (
    "call_id, started_at, agent, workspace, tenant, endpoint, requested_model, "
    "model_entry, served_model, provider, pool, region, format_in, format_out, stream, "
    "status, error_type, latency_ms, ttft_ms, input_tokens, output_tokens, "
    "cache_read_tokens, cache_write_tokens, reasoning_tokens, total_tokens, request_units, "
    "usage_estimated, cost_usd, cost_nano_usd, decision, policy_ids, policy_version, "
    "budget, budget_ceiling, capture_ref"
)
LLM_CALLS = f"""
CREATE VIEW llm_calls AS
SELECT {_CALL_COLUMNS}, outcome,
    (SELECT count(*) FROM llm_records a WHERE a.call_id = c.call_id AND a.kind = 'attempt')
        AS attempt_count
FROM llm_records c WHERE c.kind = 'call'
UNION ALL
SELECT {_CALL_COLUMNS}, 'incomplete' AS outcome,
    (SELECT count(*) FROM llm_records a WHERE a.call_id = s.call_id AND a.kind = 'attempt')
        AS attempt_count
FROM llm_records s WHERE s.kind = 'call_started' AND NOT EXISTS (
    SELECT 1 FROM llm_records e WHERE e.call_id = s.call_id AND e.kind = 'call'
)
"""  # noqa: S608 - fixed text

LLM_ATTEMPTS = """
CREATE VIEW llm_attempts AS
SELECT call_id, attempt, started_at, agent, workspace, tenant, model_entry, served_model,
    provider, pool, region, outcome, status, detail, latency_ms, ttft_ms, input_tokens,
    output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, total_tokens,
    request_units, usage_estimated, cost_usd, cost_nano_usd
FROM llm_records WHERE kind = 'attempt'
"""


def upgrade() -> None:
    op.create_table(
        "llm_records",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("chain", sa.String(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("prev_hash", sa.String(), nullable=True),
        sa.Column("hash", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(), nullable=True),
        sa.Column("workspace", sa.String(), nullable=True),
        sa.Column("tenant", sa.String(), nullable=True),
        sa.Column("endpoint", sa.String(), nullable=False),
        sa.Column("requested_model", sa.String(), nullable=True),
        sa.Column("served_model", sa.String(), nullable=True),
        sa.Column("model_entry", sa.String(), nullable=True),
        sa.Column("provider", sa.String(), nullable=True),
        sa.Column("pool", sa.String(), nullable=True),
        sa.Column("region", sa.String(), nullable=True),
        sa.Column("format_in", sa.String(), nullable=False),
        sa.Column("format_out", sa.String(), nullable=True),
        sa.Column("stream", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("error_type", sa.String(), nullable=True),
        sa.Column("detail", sa.String(), nullable=True),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column("ttft_ms", sa.Double(), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), nullable=True),
        sa.Column("output_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=True),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=True),
        sa.Column("total_tokens", sa.BigInteger(), nullable=True),
        sa.Column("request_units", sa.BigInteger(), nullable=True),
        sa.Column("usage_estimated", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("usage", sa.JSON(), nullable=True),
        sa.Column("cost_usd", sa.String(), nullable=True),
        sa.Column("cost_nano_usd", sa.BigInteger(), nullable=True),
        sa.Column("decision", sa.String(), nullable=True),
        sa.Column("policy_ids", sa.JSON(), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("policy_context", sa.JSON(), nullable=True),
        sa.Column("budget", sa.String(), nullable=True),
        sa.Column("budget_ceiling", sa.String(), nullable=True),
        sa.Column("attempts", sa.JSON(), nullable=True),
        sa.Column("capture_ref", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_llm_records"),
        sa.UniqueConstraint("chain", "seq", name="uq_llm_records_chain"),
    )
    op.create_index("ix_llm_records_started_at", "llm_records", ["started_at"])
    op.create_index("ix_llm_records_call_id", "llm_records", ["call_id"])
    op.create_table(
        "audit_chains",
        sa.Column("chain", sa.String(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain", name="pk_audit_chains"),
    )
    op.execute(
        f"INSERT INTO llm_records (kind, outcome, {_KEPT}) "  # noqa: S608 - fixed text
        f"SELECT 'call', {_LEGACY_OUTCOME}, {_KEPT} FROM audit ORDER BY id"
    )
    op.drop_index("ix_audit_started_at", table_name="audit")
    op.drop_table("audit")
    op.execute(LLM_CALLS)
    op.execute(LLM_ATTEMPTS)


def downgrade() -> None:
    # Append-only history, as for the revisions before it: a database moves forward only.
    msg = "downgrading below revision 0005 is not supported"
    raise NotImplementedError(msg)
