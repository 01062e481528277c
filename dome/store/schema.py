"""The tables as SQLAlchemy Core metadata, which every query in this package builds on.

Migrations do not import this module (they are frozen history); a test checks that the
migrated database and this metadata agree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# Explicit names, so constraints are called the same on SQLite and PostgreSQL and later
# migrations can refer to them.
metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime in, an aware UTC datetime out, on every dialect.

    SQLite keeps no offset (SQLAlchemy formats the wall-clock fields only), so values
    are converted to UTC before they are stored and marked UTC when read back.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            msg = f"naive datetime {value.isoformat()} given; the store keeps aware UTC times"
            raise ValueError(msg)
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002 (SQLAlchemy's signature; every dialect reads alike)
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# SQLite only auto-increments an INTEGER PRIMARY KEY (a rowid alias), not a BIGINT one.
AuditId = BigInteger().with_variant(Integer(), "sqlite")

tenants = Table(
    "tenants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("region", String, nullable=True),  # the region pin of its calls, e.g. "eu"
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("residency", String, nullable=False, server_default=""),
    Column("max_classification", String, nullable=False, server_default="restricted"),
    Column("classification_default", String, nullable=True),
    Column("classification_floor", String, nullable=True),
    Column("region", String, nullable=True),  # overrides the tenant's region pin
)

agents = Table(
    "agents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("token_hash", String, nullable=False),
    Column("token_prefix", String, nullable=False),
    Column("status", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("labels", JSON(none_as_null=True), nullable=False, server_default=text("'[]'")),
    Column("classification_default", String, nullable=True),
    Column("classification_floor", String, nullable=True),
    CheckConstraint("status IN ('active', 'revoked')", name="status"),
    Index(None, "token_hash", unique=True),
)

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("provider", String, nullable=False),
    Column("model", String, nullable=False),
    Column("base_url", String, nullable=True),
    Column("auth_method", String, nullable=False),
    Column("credential_type", String, nullable=False),
    Column("credential", LargeBinary, nullable=True),
    Column("options", JSON(none_as_null=True), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("region", String, nullable=False, server_default=""),
    Column("tier", String, nullable=False, server_default="standard"),
    Column("family", String, nullable=True),
    # USD per million tokens as Decimal text: floats would round prices.
    Column("input_price", String, nullable=True),
    Column("output_price", String, nullable=True),
)

# Pool names and model entry names share one namespace; the store checks that (under
# the config lock), as no constraint spans two tables.
pools = Table(
    "pools",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("match_when", JSON(none_as_null=True), nullable=False, server_default=text("'{}'")),
    Column("strategy", String, nullable=False, server_default="priority"),
    Column("sort_order", Integer, nullable=False, server_default=text("0")),
    Column("created_at", UtcDateTime, nullable=False),
)

pool_members = Table(
    "pool_members",
    metadata,
    # The key makes a model a member of a pool at most once.
    Column("pool_id", Integer, ForeignKey("pools.id"), primary_key=True, autoincrement=False),
    # A model that is a member cannot be removed (the store refuses, naming the pools).
    Column("model_id", Integer, ForeignKey("models.id"), primary_key=True, autoincrement=False),
    Column("priority", Integer, nullable=False, server_default=text("0")),
    Column("weight", Integer, nullable=False, server_default=text("1")),
    CheckConstraint("weight >= 1", name="weight"),
)

# A ceiling an operator set: at most one per scope, metric and period.
budgets = Table(
    "budgets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope_kind", String, nullable=False),
    Column("scope_name", String, nullable=False),
    Column("metric", String, nullable=False),
    Column("period", String, nullable=False),
    Column("limit_value", String, nullable=False),  # Decimal text: whole tokens, or USD
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("scope_kind", "scope_name", "metric", "period"),
    CheckConstraint("scope_kind IN ('agent', 'workspace', 'tenant')", name="scope_kind"),
    CheckConstraint("metric IN ('tokens', 'usd')", name="metric"),
    CheckConstraint("period IN ('hour', 'day', 'week', 'month', 'total')", name="period"),
)

# The SQL counter backend's state: one row per ceiling and window (tokens, or nano-USD),
# changed only by conditional updates; and one row per open reservation of a call.
budget_counters = Table(
    "budget_counters",
    metadata,
    Column("key", String, primary_key=True),
    Column("used", BigInteger, nullable=False, server_default=text("0")),
    Column("reserved", BigInteger, nullable=False, server_default=text("0")),
    Column("expires_at", UtcDateTime, nullable=True),
)

budget_reservations = Table(
    "budget_reservations",
    metadata,
    Column("call_id", String, primary_key=True),
    Column("counter_key", String, primary_key=True),
    Column("amount", BigInteger, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

keys = Table(
    "keys",
    metadata,
    Column("name", String, primary_key=True),
    Column("value", LargeBinary, nullable=False),
)

config_version = Table(
    "config_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# The llm.* audit: append-only records, each sealed into its writer's hash chain
# (`chain`, `seq`, `prev_hash`, `hash`; NULL for rows copied from before revision 0005).
# `kind` is call_started | attempt | call; docs/audit.md has the vocabulary.
llm_records = Table(
    "llm_records",
    metadata,
    Column("id", AuditId, primary_key=True, autoincrement=True),
    Column("chain", String, nullable=True),
    Column("seq", BigInteger, nullable=True),
    Column("prev_hash", String, nullable=True),
    Column("hash", String, nullable=True),
    Column("kind", String, nullable=False),
    Column("call_id", String, nullable=False, index=True),
    Column("attempt", Integer, nullable=True),
    Column("started_at", UtcDateTime, nullable=False, index=True),
    Column("agent", String, nullable=True),
    Column("workspace", String, nullable=True),
    Column("tenant", String, nullable=True),
    Column("endpoint", String, nullable=False),
    Column("requested_model", String, nullable=True),
    Column("served_model", String, nullable=True),
    Column("model_entry", String, nullable=True),
    Column("provider", String, nullable=True),
    Column("pool", String, nullable=True),
    Column("region", String, nullable=True),
    Column("format_in", String, nullable=False),
    Column("format_out", String, nullable=True),
    Column("stream", Boolean, nullable=False),
    Column("outcome", String, nullable=True),
    Column("status", Integer, nullable=False),
    Column("error_type", String, nullable=True),
    Column("detail", String, nullable=True),
    Column("latency_ms", Double, nullable=False),
    Column("ttft_ms", Double, nullable=True),
    Column("input_tokens", BigInteger, nullable=True),
    Column("output_tokens", BigInteger, nullable=True),
    Column("cache_read_tokens", BigInteger, nullable=True),
    Column("cache_write_tokens", BigInteger, nullable=True),
    Column("reasoning_tokens", BigInteger, nullable=True),
    Column("total_tokens", BigInteger, nullable=True),
    Column("request_units", BigInteger, nullable=True),
    Column("usage_estimated", Boolean, nullable=False, server_default=false()),
    Column("usage", JSON(none_as_null=True), nullable=True),
    Column("cost_usd", String, nullable=True),  # Decimal text
    Column("cost_nano_usd", BigInteger, nullable=True),  # the same, summable exactly
    Column("decision", String, nullable=True),
    Column("policy_ids", JSON(none_as_null=True), nullable=True),
    Column("policy_version", Integer, nullable=True),
    Column("policy_context", JSON(none_as_null=True), nullable=True),
    Column("budget", String, nullable=True),
    Column("budget_ceiling", String, nullable=True),
    Column("attempts", JSON(none_as_null=True), nullable=True),
    Column("capture_ref", String, nullable=True),
    UniqueConstraint("chain", "seq"),
)

# The newest record of each writer's chain, written with it: a record deleted from the
# end of a chain leaves the head pointing past it.
audit_chains = Table(
    "audit_chains",
    metadata,
    Column("chain", String, primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# One row per published policy set; the highest version is in force. Versions are
# numbered by the writer under the config lock, so they are dense and never reused.
policy_versions = Table(
    "policy_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("note", String, nullable=False),
    Column("policies", JSON(none_as_null=True), nullable=False),
    Column("digest", String, nullable=False),
)
