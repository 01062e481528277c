"""The Store contract for the operator config, on every implementation (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import anyio
import pytest
from sqlalchemy.exc import IntegrityError

from dome.errors import ConflictError, NotFoundError
from dome.store import SqlStore, open_store
from tests.integration.store.samples import (
    HASH_A,
    HASH_B,
    T0,
    FixedClock,
    Write,
    assert_utc,
    audit_row,
    model,
    sealed,
    seed,
)

pytestmark = pytest.mark.anyio


async def test_new_store_has_no_config(store: SqlStore) -> None:
    rows = await store.load_config()

    assert rows.version == await store.config_version()
    assert (rows.tenants, rows.workspaces, rows.agents, rows.models) == ((), (), (), ())


async def test_load_config_returns_everything_created(store: SqlStore) -> None:
    tenant = await store.create_tenant("acme")
    workspace = await store.create_workspace("ws", "acme")
    agent = await store.create_agent("agent-1", "ws", HASH_A, "dome_aaa")
    added = await store.add_model(model())
    keyless = await store.add_model(model("local", credential=None))

    rows = await store.load_config()

    assert rows.tenants == (tenant,)
    assert rows.workspaces == (workspace,)
    assert rows.agents == (agent,)
    assert rows.models == (added, keyless)  # ordered by name
    assert agent.status == "active"
    assert agent.revoked_at is None
    assert added.options == {"max_tokens": 1024, "tags": ["a", "b"], "nested": {"x": None}}
    assert keyless.credential is None
    assert added.created_at is not None
    assert added.updated_at == added.created_at


async def test_every_config_write_bumps_the_version_by_one(store: SqlStore) -> None:
    writes: list[Write] = [
        lambda: store.create_tenant("acme"),
        lambda: store.create_workspace("ws", "acme"),
        lambda: store.create_agent("agent-1", "ws", HASH_A, "dome_aaa"),
        lambda: store.update_agent("agent-1", labels=["batch"]),
        lambda: store.update_workspace("ws", residency="eu"),
        lambda: store.revoke_agent("agent-1"),
        lambda: store.add_model(model()),
        lambda: store.update_model("claude", tier="cheap"),
        lambda: store.set_model_credential("claude", b"ct-2"),
        lambda: store.publish_policies([], "empty"),
        lambda: store.replace_ciphertexts([("claude", b"ct-3")], [("k", b"v")]),
        lambda: store.remove_model("claude"),
    ]
    version = await store.config_version()
    for write in writes:
        await write()
        assert await store.config_version() == version + 1
        version += 1
    assert (await store.load_config()).version == version


async def test_writes_outside_the_config_do_not_bump_the_version(store: SqlStore) -> None:
    await seed(store)
    await store.revoke_agent("agent-1")
    version = await store.config_version()

    await store.revoke_agent("agent-1")  # already revoked: nothing changes
    await store.put_key_if_absent("k", b"v")
    await store.insert_audit(sealed([audit_row("c1", T0)]))

    assert await store.config_version() == version


async def test_failed_writes_change_nothing(store: SqlStore) -> None:
    await seed(store)
    await store.add_model(model())
    before = await store.load_config()

    failing: list[Write] = [
        lambda: store.create_tenant("acme"),
        lambda: store.create_workspace("ws", "acme"),
        lambda: store.create_workspace("ws-2", "nobody"),
        lambda: store.create_agent("agent-1", "ws", HASH_B, "dome_bbb"),
        lambda: store.create_agent("agent-2", "nowhere", HASH_B, "dome_bbb"),
        lambda: store.add_model(model()),
        lambda: store.remove_model("nope"),
        lambda: store.set_model_credential("nope", b"x"),
        lambda: store.revoke_agent("nope"),
        lambda: store.update_agent("nope", labels=["x"]),
        lambda: store.update_workspace("nope", residency="eu"),
        lambda: store.update_model("nope", region="eu"),
    ]
    for write in failing:
        with pytest.raises((ConflictError, NotFoundError)):
            await write()

    assert await store.load_config() == before


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("tenant", "tenant 'acme' already exists"),
        ("workspace", "workspace 'ws' already exists"),
        ("agent", "agent 'agent-1' already exists"),
        ("model", "model 'claude' already exists"),
    ],
)
async def test_duplicate_names_conflict(store: SqlStore, kind: str, message: str) -> None:
    await seed(store)
    await store.add_model(model())
    duplicates: dict[str, Write] = {
        "tenant": lambda: store.create_tenant("acme"),
        "workspace": lambda: store.create_workspace("ws", "acme"),
        "agent": lambda: store.create_agent("agent-1", "ws", HASH_B, "dome_bbb"),
        "model": lambda: store.add_model(model()),
    }
    duplicate = duplicates[kind]

    with pytest.raises(ConflictError) as raised:
        await duplicate()

    assert raised.value.message == message
    assert isinstance(raised.value.__cause__, IntegrityError)


async def test_names_are_unique_across_parents(store: SqlStore) -> None:
    await seed(store)
    await store.create_tenant("other")

    with pytest.raises(ConflictError):
        await store.create_workspace("ws", "other")


async def test_agent_token_hash_is_unique(store: SqlStore) -> None:
    await seed(store)

    with pytest.raises(ConflictError) as raised:
        await store.create_agent("agent-2", "ws", HASH_A, "dome_aaa")

    assert HASH_A not in raised.value.message


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("workspace", "tenant 'nobody' not found"),
        ("agent", "workspace 'nowhere' not found"),
    ],
)
async def test_missing_parent_is_not_found(store: SqlStore, kind: str, message: str) -> None:
    await seed(store)
    creates: dict[str, Write] = {
        "workspace": lambda: store.create_workspace("ws-2", "nobody"),
        "agent": lambda: store.create_agent("agent-2", "nowhere", HASH_B, "dome_bbb"),
    }
    create = creates[kind]

    with pytest.raises(NotFoundError) as raised:
        await create()

    assert raised.value.message == message


async def test_revoke_agent(store: SqlStore, database_url: str) -> None:
    await seed(store)
    revoked_at = T0 + timedelta(days=1)
    clocked = await open_store(database_url, clock=FixedClock(revoked_at))
    try:
        revoked = await clocked.revoke_agent("agent-1")
        again = await clocked.revoke_agent("agent-1")
    finally:
        await clocked.close()

    assert revoked.status == "revoked"
    assert revoked.revoked_at == revoked_at
    assert again == revoked
    assert (await store.load_config()).agents == (revoked,)


async def test_revoke_unknown_agent_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="agent 'ghost' not found"):
        await store.revoke_agent("ghost")


async def test_remove_model(store: SqlStore) -> None:
    await store.add_model(model("one"))
    kept = await store.add_model(model("two"))

    await store.remove_model("one")

    assert (await store.load_config()).models == (kept,)
    with pytest.raises(NotFoundError, match="model 'one' not found"):
        await store.remove_model("one")


async def test_set_model_credential(store: SqlStore) -> None:
    added = await store.add_model(model())

    changed = await store.set_model_credential("claude", b"ct-2")
    cleared = await store.set_model_credential("claude", None)

    assert changed.credential == b"ct-2"
    assert changed.created_at == added.created_at
    assert changed.updated_at is not None
    assert added.updated_at is not None
    assert changed.updated_at >= added.updated_at
    assert cleared.credential is None
    assert (await store.load_config()).models == (cleared,)
    with pytest.raises(NotFoundError, match="model 'ghost' not found"):
        await store.set_model_credential("ghost", b"x")


# time


async def test_datetimes_come_back_aware_utc(store: SqlStore, database_url: str) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    local_now = datetime(2026, 6, 1, 9, 15, 30, 654321, tzinfo=india)
    clocked = await open_store(database_url, clock=FixedClock(local_now))
    try:
        tenant = await clocked.create_tenant("acme")
        await clocked.create_workspace("ws", "acme")
        await clocked.create_agent("agent-1", "ws", HASH_A, "dome_aaa")
        await clocked.revoke_agent("agent-1")
        await clocked.add_model(model())
        await clocked.insert_audit(sealed([audit_row("c1", local_now)]))
    finally:
        await clocked.close()

    rows = await store.load_config()
    (audit,) = await store.tail_audit(1)
    stamps = [
        rows.tenants[0].created_at,
        rows.workspaces[0].created_at,
        rows.agents[0].created_at,
        rows.agents[0].revoked_at,
        rows.models[0].created_at,
        rows.models[0].updated_at,
        audit.started_at,
    ]
    for stamp in [*stamps, tenant.created_at]:
        assert_utc(stamp)
        assert stamp == local_now


# several stores on one database


async def test_concurrent_config_writes_from_two_stores(store: SqlStore, database_url: str) -> None:
    other = await open_store(database_url)
    version = await store.config_version()
    try:
        async with anyio.create_task_group() as group:
            for index in range(12):
                target = store if index % 2 else other
                group.start_soon(target.create_tenant, f"tenant-{index:02}")
        seen_by_other = await other.config_version()
    finally:
        await other.close()

    rows = await store.load_config()
    assert [tenant.name for tenant in rows.tenants] == [f"tenant-{i:02}" for i in range(12)]
    assert rows.version == seen_by_other == version + 12
