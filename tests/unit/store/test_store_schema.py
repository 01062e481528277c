"""The tables against the records they hold, and the UTC datetime column type."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from dome.store import (
    AgentRow,
    AuditRow,
    ModelRow,
    PolicyVersion,
    PoolMemberRow,
    PoolRow,
    TenantRow,
    WorkspaceRow,
)
from dome.store.schema import (
    UtcDateTime,
    agents,
    llm_records,
    models,
    policy_versions,
    pool_members,
    pools,
    tenants,
    workspaces,
)

PLUS_TWO = timezone(timedelta(hours=2))
SQLITE: Dialect = sqlite.dialect()
POSTGRES: Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]


def test_audit_columns_are_the_audit_row_fields_and_the_chain() -> None:
    chain = {"id", "chain", "seq", "prev_hash", "hash"}
    assert {c.name for c in llm_records.columns} == chain | {f.name for f in fields(AuditRow)}


def test_model_columns_hold_every_model_row_field() -> None:
    assert {f.name for f in fields(ModelRow)} <= set(models.columns.keys())


def test_agent_columns_hold_every_agent_row_field_but_its_workspace() -> None:
    expected = {f.name for f in fields(AgentRow)} - {"workspace"}
    assert expected <= set(agents.columns.keys())


def test_workspace_columns_hold_every_workspace_row_field_but_its_tenant() -> None:
    expected = {f.name for f in fields(WorkspaceRow)} - {"tenant"}
    assert expected <= set(workspaces.columns.keys())


def test_tenant_columns_hold_every_tenant_row_field() -> None:
    assert {f.name for f in fields(TenantRow)} <= set(tenants.columns.keys())


def test_pool_columns_hold_the_pool_row_fields() -> None:
    # `order` is `sort_order` in SQL (a keyword there); members live in their own table.
    expected = ({f.name for f in fields(PoolRow)} - {"order", "members"}) | {"sort_order"}
    assert expected <= set(pools.columns.keys())
    member = ({f.name for f in fields(PoolMemberRow)} - {"model"}) | {"pool_id", "model_id"}
    assert set(pool_members.columns.keys()) == member


def test_policy_version_columns_are_the_policy_version_fields() -> None:
    assert set(policy_versions.columns.keys()) == {f.name for f in fields(PolicyVersion)}


def test_sqlite_stores_utc_wall_clock() -> None:
    value = datetime(2026, 1, 1, 14, 30, tzinfo=PLUS_TWO)

    stored = UtcDateTime().process_bind_param(value, SQLITE)

    assert stored == datetime(2026, 1, 1, 12, 30)  # noqa: DTZ001 (SQLite keeps no offset)


def test_postgres_gets_an_aware_utc_value() -> None:
    value = datetime(2026, 1, 1, 14, 30, tzinfo=PLUS_TWO)

    bound = UtcDateTime().process_bind_param(value, POSTGRES)

    assert bound == value
    assert bound is not None
    assert bound.tzinfo is UTC


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRES], ids=["sqlite", "postgres"])
def test_naive_datetimes_are_refused(dialect: Dialect) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        UtcDateTime().process_bind_param(datetime(2026, 1, 1), dialect)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("stored", "dialect"),
    [
        (datetime(2026, 1, 1, 12, 30), SQLITE),  # noqa: DTZ001
        (datetime(2026, 1, 1, 14, 30, tzinfo=PLUS_TWO), POSTGRES),
    ],
    ids=["sqlite-naive", "postgres-session-zone"],
)
def test_results_are_aware_utc(stored: datetime, dialect: Dialect) -> None:
    result = UtcDateTime().process_result_value(stored, dialect)

    assert result == datetime(2026, 1, 1, 12, 30, tzinfo=UTC)
    assert result is not None
    assert result.tzinfo is UTC


def test_none_passes_through() -> None:
    assert UtcDateTime().process_bind_param(None, SQLITE) is None
    assert UtcDateTime().process_result_value(None, SQLITE) is None
