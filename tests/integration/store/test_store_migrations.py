"""Migrations on a database nothing has touched: idempotent, safe to race from several
processes, and in agreement with the schema the queries use; and upgrades of databases
filled at older revisions (0001, 0002), which keep their rows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, column, func, insert, select, table, text, update

from dome.errors import ConflictError
from dome.store import AgentRow, AuditRow, PolicyRecord, WorkspaceRow, migrate, open_store, upgrade
from dome.store.engine import SQLITE_BUSY_TIMEOUT_MS, create_sync_engine, database_urls
from dome.store.migrate import alembic_config, upgrade_urls
from dome.store.schema import (
    UtcDateTime,
    agents,
    config_version,
    metadata,
    models,
    policy_versions,
    tenants,
    workspaces,
)
from tests.integration.store.samples import HASH_A, T0, audit_row

REPO_ROOT = Path(__file__).resolve().parents[3]

# Each child imports first, says "ready", then waits for one byte on stdin, so the
# upgrades start together rather than one import time apart.
CHILD = """
import sys
from dome.store import upgrade
print("ready", flush=True)
sys.stdin.read(1)
upgrade(sys.argv[1])
"""
RACERS = 3

# The audit table before revision 0005 moved its rows into llm_records.
LEGACY_AUDIT_COLUMNS = (
    "call_id",
    "started_at",
    "agent",
    "workspace",
    "tenant",
    "endpoint",
    "requested_model",
    "served_model",
    "model_entry",
    "provider",
    "format_in",
    "format_out",
    "stream",
    "status",
    "error_type",
    "latency_ms",
    "ttft_ms",
    "input_tokens",
    "output_tokens",
    "usage",
    "decision",
    "policy_ids",
    "policy_version",
    "policy_context",
    "attempts",
    "pool",
)
_JSON_COLUMNS = frozenset({"usage", "policy_ids", "policy_context", "attempts"})
audit = table(
    "audit",
    *(
        column(
            name,
            JSON() if name in _JSON_COLUMNS else UtcDateTime() if name == "started_at" else None,
        )
        for name in LEGACY_AUDIT_COLUMNS
    ),
)
# The audit columns each revision added, so older revisions are filled as they were.
AUDIT_SINCE_0002 = frozenset({"decision", "policy_ids", "policy_version", "policy_context"})
AUDIT_SINCE_0003 = frozenset({"attempts", "pool"})


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_the_head_read_from_file_names_is_alembics() -> None:
    """The broker checks for head without alembic; both must agree."""
    assert migrate.head_revision() == head_revision()


def schema_state(url: str) -> tuple[str | None, int, list[object]]:
    """(alembic revision, config_version rows, differences from dome.store.schema)."""
    engine = create_sync_engine(database_urls(url))
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            rows = connection.scalar(select(func.count()).select_from(config_version))
            diff = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()
    return revision, int(rows or 0), diff


def test_upgrade_creates_the_schema_of_the_queries(fresh_database_url: str) -> None:
    upgrade(fresh_database_url)

    assert schema_state(fresh_database_url) == (head_revision(), 1, [])


def test_upgrade_is_idempotent(fresh_database_url: str) -> None:
    upgrade(fresh_database_url)
    upgrade(fresh_database_url)

    assert schema_state(fresh_database_url) == (head_revision(), 1, [])


def test_concurrent_upgrades_from_several_processes(fresh_database_url: str) -> None:
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, fresh_database_url],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(RACERS)
    ]
    outcomes: list[tuple[int, str]] = []
    try:
        for racer in racers:
            assert racer.stdout is not None
            assert racer.stdout.readline().strip() == "ready"
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write("go")
            racer.stdin.flush()
        for racer in racers:
            _, stderr = racer.communicate(timeout=60)
            outcomes.append((racer.returncode, stderr))
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
                racer.communicate()

    assert outcomes == [(0, "")] * RACERS
    assert schema_state(fresh_database_url) == (head_revision(), 1, [])


@pytest.mark.parametrize("fresh_database_url", ["sqlite"], indirect=True)
def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(
    fresh_database_url: str,
) -> None:
    engine = create_sync_engine(database_urls(fresh_database_url))
    try:
        with engine.connect() as connection:
            pragmas = [
                connection.scalar(text(f"PRAGMA {name}"))
                for name in ("journal_mode", "busy_timeout", "foreign_keys")
            ]
    finally:
        engine.dispose()

    assert pragmas == ["wal", SQLITE_BUSY_TIMEOUT_MS, 1]


def seed_revision_0001(url: str) -> None:
    """Migrate to 0001 only and fill it the way a broker of that release did."""
    urls = database_urls(url)
    upgrade_urls(urls, "0001")
    engine = create_sync_engine(urls)
    try:
        with engine.begin() as connection:
            connection.execute(insert(tenants).values(id=1, name="acme", created_at=T0))
            connection.execute(
                insert(workspaces).values(id=1, name="ws", tenant_id=1, created_at=T0)
            )
            connection.execute(
                insert(agents).values(
                    name="agent-1",
                    workspace_id=1,
                    token_hash=HASH_A,
                    token_prefix="dome_aaa",
                    status="active",
                    created_at=T0,
                )
            )
            connection.execute(
                insert(models).values(
                    name="claude",
                    provider="anthropic",
                    model="claude-sonnet-4-5-20250929",
                    base_url=None,
                    auth_method="api-key",
                    credential_type="shared",
                    credential=b"ct-1",
                    options={"max_tokens": 1024},
                    created_at=T0,
                    updated_at=T0,
                )
            )
            old_audit = audit_values(audit_row("c1", T0), AUDIT_SINCE_0002 | AUDIT_SINCE_0003)
            connection.execute(insert(audit).values(**old_audit))
            connection.execute(update(config_version).values(version=4))
    finally:
        engine.dispose()


def audit_values(row: AuditRow, newer: frozenset[str]) -> dict[str, object]:
    """The row's columns without those added after the revision being filled."""
    return {name: getattr(row, name) for name in LEGACY_AUDIT_COLUMNS if name not in newer}


@pytest.mark.anyio
async def test_upgrade_from_0001_keeps_every_row_and_fills_the_defaults(
    fresh_database_url: str,
) -> None:
    seed_revision_0001(fresh_database_url)

    store = await open_store(fresh_database_url)  # migrates to head first
    try:
        rows = await store.load_config()
        (audited,) = await store.tail_audit(10)
        decisions = await store.recent_decisions(10)
        published = await store.publish_policies([], "first")
    finally:
        await store.close()

    assert schema_state(fresh_database_url) == (head_revision(), 1, [])
    assert rows.version == 4
    assert [tenant.name for tenant in rows.tenants] == ["acme"]
    (workspace,) = rows.workspaces
    assert workspace == WorkspaceRow("ws", "acme", T0, "", "restricted", None, None)
    (agent,) = rows.agents
    assert agent == AgentRow("agent-1", "ws", HASH_A, "dome_aaa", "active", T0)
    (entry,) = rows.models
    assert (entry.model, entry.credential, entry.options) == (
        "claude-sonnet-4-5-20250929",
        b"ct-1",
        {"max_tokens": 1024},
    )
    assert (entry.region, entry.tier, entry.family) == ("", "standard", None)
    assert audited == audit_row("c1", T0, outcome="ok")  # copied by 0005, outcome derived
    assert (audited.decision, audited.policy_ids, audited.policy_context) == (None, None, None)
    assert decisions == []
    assert rows.policies is None
    assert published == 1


DECIDED = {"principal": {"type": "Agent", "id": "agent-1"}, "context": {"n": [1, None]}}


def seed_revision_0002(url: str) -> None:
    """Migrate to 0002 only and fill it the way a broker of that release did."""
    urls = database_urls(url)
    upgrade_urls(urls, "0002")
    engine = create_sync_engine(urls)
    try:
        with engine.begin() as connection:
            connection.execute(insert(tenants).values(id=1, name="acme", created_at=T0))
            connection.execute(
                insert(workspaces).values(
                    id=1,
                    name="ws",
                    tenant_id=1,
                    created_at=T0,
                    residency="eu",
                    max_classification="confidential",
                )
            )
            connection.execute(
                insert(agents).values(
                    name="agent-1",
                    workspace_id=1,
                    token_hash=HASH_A,
                    token_prefix="dome_aaa",
                    status="active",
                    created_at=T0,
                    labels=["team:ml"],
                )
            )
            connection.execute(
                insert(models).values(
                    name="claude",
                    provider="anthropic",
                    model="claude-sonnet-4-5-20250929",
                    base_url=None,
                    auth_method="api-key",
                    credential_type="shared",
                    credential=b"ct-1",
                    options={},
                    created_at=T0,
                    updated_at=T0,
                    region="eu-west-1",
                    tier="frontier",
                )
            )
            connection.execute(
                insert(policy_versions).values(
                    version=1,
                    created_at=T0,
                    note="apply a.cedar at platform",
                    policies=[{"id": "p", "scope": "platform", "text": "t", "file": "a.cedar"}],
                    digest="d" * 64,
                )
            )
            decided = audit_row(
                "c1",
                T0,
                decision="deny",
                policy_ids=["p"],
                policy_version=1,
                policy_context=DECIDED,
            )
            connection.execute(insert(audit).values(**audit_values(decided, AUDIT_SINCE_0003)))
            connection.execute(update(config_version).values(version=9))
    finally:
        engine.dispose()


@pytest.mark.anyio
async def test_upgrade_from_0002_keeps_every_row_and_adds_the_routing_config(
    fresh_database_url: str,
) -> None:
    seed_revision_0002(fresh_database_url)

    store = await open_store(fresh_database_url)  # migrates to head first
    try:
        rows = await store.load_config()
        (audited,) = await store.tail_audit(10)
        policies = await store.current_policies()
        pinned = await store.update_tenant("acme", region="eu")
        pool = await store.create_pool("cheap", match_when={"request.model": ["claude-*"]})
        joined = await store.add_pool_member("cheap", "claude", priority=1, weight=2)
        with pytest.raises(ConflictError):
            await store.remove_model("claude")
    finally:
        await store.close()

    assert schema_state(fresh_database_url) == (head_revision(), 1, [])
    assert rows.version == 9
    (tenant,) = rows.tenants
    assert (tenant.name, tenant.region) == ("acme", None)
    assert rows.workspaces == (WorkspaceRow("ws", "acme", T0, "eu", "confidential", None, None),)
    (agent,) = rows.agents
    assert agent.labels == ("team:ml",)
    (entry,) = rows.models
    assert (entry.region, entry.tier, entry.credential) == ("eu-west-1", "frontier", b"ct-1")
    assert (entry.input_price, entry.output_price) == (None, None)
    assert rows.pools == ()
    assert policies is not None
    assert policies.policies == (PolicyRecord("p", "platform", "t", "a.cedar"),)
    assert (audited.decision, audited.policy_ids, audited.policy_context) == (
        "deny",
        ["p"],
        DECIDED,
    )
    assert (audited.attempts, audited.pool) == (None, None)
    assert pinned.region == "eu"
    assert pool.members == ()
    assert [(m.model, m.priority, m.weight) for m in joined.members] == [("claude", 1, 2)]
