"""The Store contract for budgets, on SQLite and PostgreSQL: one budget per scope, metric
and period (a second set changes its limit), scopes that must exist, exact limits, the
config version bumped by every change, and the ceilings the snapshot gathers per agent."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import anyio
import pytest
from sqlalchemy import select

from dome.credentials import Keyring, generate_key
from dome.errors import ConfigError, NotFoundError
from dome.spend.ceilings import MAX_UNITS, Ceiling
from dome.store import BudgetRow, SqlStore, open_store
from dome.store.engine import create_async_engine, database_urls
from dome.store.schema import budgets
from dome.store.snapshot import build_snapshot
from tests.integration.store.samples import HASH_A, HASH_B, T0, FixedClock, Write, seed

pytestmark = pytest.mark.anyio

HOUR = timedelta(hours=1)


async def test_a_budget_round_trips_with_its_times(database_url: str) -> None:
    clock = FixedClock(T0)
    store = await open_store(database_url, clock=clock)
    try:
        await seed(store)
        created = await store.set_budget("agent", "agent-1", "tokens", "day", Decimal(1000))
        listed = await store.list_budgets()
        loaded = (await store.load_config()).budgets
    finally:
        await store.close()

    assert created == BudgetRow("agent", "agent-1", "tokens", "day", Decimal(1000), T0, T0)
    assert listed == [created]
    assert loaded == (created,)


async def test_setting_it_again_changes_the_limit_and_keeps_one_budget(
    database_url: str,
) -> None:
    clock = FixedClock(T0)
    store = await open_store(database_url, clock=clock)
    try:
        await seed(store)
        await store.set_budget("workspace", "ws", "usd", "month", Decimal("5.00"))
        clock.now = T0 + HOUR
        changed = await store.set_budget("workspace", "ws", "usd", "month", Decimal("7.25"))
        listed = await store.list_budgets()
    finally:
        await store.close()

    assert changed == BudgetRow("workspace", "ws", "usd", "month", Decimal("7.25"), T0, T0 + HOUR)
    assert listed == [changed]


async def test_limits_are_kept_exactly(store: SqlStore, database_url: str) -> None:
    await seed(store)
    await store.set_budget("tenant", "acme", "usd", "total", Decimal("0.0000001"))
    await store.set_budget("tenant", "acme", "usd", "day", Decimal("5.50"))
    await store.set_budget("tenant", "acme", "tokens", "week", Decimal(MAX_UNITS))

    listed = {row.period: row.limit for row in await store.list_budgets()}

    assert listed == {
        "total": Decimal("0.0000001"),
        "day": Decimal("5.50"),
        "week": Decimal(MAX_UNITS),
    }
    assert str(listed["day"]) == "5.50"  # as given, not as a float would round it
    engine = create_async_engine(database_urls(database_url))
    try:
        async with engine.connect() as connection:
            stored = set((await connection.scalars(select(budgets.c.limit_value))).all())
    finally:
        await engine.dispose()
    assert stored == {"0.0000001", "5.50", str(MAX_UNITS)}  # plain notation, never 1E-7


async def test_budgets_are_listed_by_scope_name_metric_period_and_filtered(
    store: SqlStore,
) -> None:
    await seed(store)
    await store.create_workspace("lab", "acme")
    await store.create_agent("agent-2", "lab", HASH_B, "dome_bbb")
    for kind, name, metric, period in (
        ("tenant", "acme", "usd", "month"),
        ("agent", "agent-2", "tokens", "hour"),
        ("workspace", "ws", "tokens", "total"),
        ("agent", "agent-1", "usd", "hour"),
        ("agent", "agent-1", "tokens", "week"),
        ("agent", "agent-1", "tokens", "hour"),
        ("workspace", "lab", "tokens", "day"),
    ):
        await store.set_budget(kind, name, metric, period, Decimal(10))  # type: ignore[arg-type]

    def ids(rows: list[BudgetRow]) -> list[str]:
        return [f"{r.scope_kind}:{r.scope_name}:{r.metric}:{r.period}" for r in rows]

    assert ids(await store.list_budgets()) == [
        "agent:agent-1:tokens:hour",
        "agent:agent-1:tokens:week",
        "agent:agent-1:usd:hour",
        "agent:agent-2:tokens:hour",
        "workspace:lab:tokens:day",
        "workspace:ws:tokens:total",
        "tenant:acme:usd:month",
    ]
    assert ids(await store.list_budgets("workspace")) == [
        "workspace:lab:tokens:day",
        "workspace:ws:tokens:total",
    ]
    assert ids(await store.list_budgets("agent", "agent-2")) == ["agent:agent-2:tokens:hour"]
    assert await store.list_budgets("tenant", "ghost") == []


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("agent", "agent 'ghost' not found"),
        ("workspace", "workspace 'ghost' not found"),
        ("tenant", "tenant 'ghost' not found"),
    ],
)
async def test_a_budget_for_an_unknown_scope_is_not_found_and_changes_nothing(
    store: SqlStore, kind: str, message: str
) -> None:
    await seed(store)
    before = await store.load_config()

    with pytest.raises(NotFoundError) as raised:
        await store.set_budget(kind, "ghost", "tokens", "day", Decimal(1))  # type: ignore[arg-type]

    assert raised.value.message == message
    assert await store.load_config() == before


async def test_a_name_of_another_kind_is_not_a_scope(store: SqlStore) -> None:
    await seed(store)  # tenant acme, workspace ws, agent agent-1

    with pytest.raises(NotFoundError):
        await store.set_budget("agent", "ws", "tokens", "day", Decimal(1))
    with pytest.raises(NotFoundError):
        await store.set_budget("tenant", "agent-1", "tokens", "day", Decimal(1))


async def test_revoked_agents_keep_their_budgets_and_may_get_new_ones(store: SqlStore) -> None:
    await seed(store)
    kept = await store.set_budget("agent", "agent-1", "tokens", "day", Decimal(100))
    await store.revoke_agent("agent-1")

    added = await store.set_budget("agent", "agent-1", "usd", "total", Decimal(3))

    assert await store.list_budgets("agent", "agent-1") == [kept, added]


async def test_remove_budget_and_removing_a_missing_one(store: SqlStore) -> None:
    await seed(store)
    await store.set_budget("agent", "agent-1", "tokens", "day", Decimal(100))
    other = await store.set_budget("agent", "agent-1", "tokens", "hour", Decimal(10))

    await store.remove_budget("agent", "agent-1", "tokens", "day")
    before = await store.load_config()
    with pytest.raises(NotFoundError) as again:
        await store.remove_budget("agent", "agent-1", "tokens", "day")
    with pytest.raises(NotFoundError) as total:
        await store.remove_budget("tenant", "acme", "usd", "total")

    assert again.value.message == "agent 'agent-1' has no tokens budget per day"
    assert total.value.message == "tenant 'acme' has no usd budget in total"
    assert await store.list_budgets() == [other]
    assert await store.load_config() == before  # the version included


@pytest.mark.parametrize(
    ("metric", "limit"),
    [
        ("tokens", Decimal(0)),
        ("tokens", Decimal(-5)),
        ("tokens", Decimal("1.5")),
        ("tokens", Decimal(MAX_UNITS + 1)),
        ("usd", Decimal("0.0000000001")),  # ten places: below one nano-USD
        ("usd", Decimal("NaN")),
        ("usd", Decimal("Infinity")),
        ("usd", Decimal(10_000_000)),  # over MAX_UNITS nano-USD
    ],
)
async def test_a_limit_no_ceiling_may_have_is_refused_and_changes_nothing(
    store: SqlStore, metric: str, limit: Decimal
) -> None:
    await seed(store)
    before = await store.load_config()

    with pytest.raises(ValueError, match="budget limit"):
        await store.set_budget("agent", "agent-1", metric, "day", limit)  # type: ignore[arg-type]

    assert await store.load_config() == before


async def test_every_budget_write_bumps_the_version_by_one(store: SqlStore) -> None:
    await seed(store)
    writes: list[Write] = [
        lambda: store.set_budget("agent", "agent-1", "tokens", "day", Decimal(100)),
        lambda: store.set_budget("agent", "agent-1", "tokens", "day", Decimal(200)),
        lambda: store.set_budget("agent", "agent-1", "tokens", "day", Decimal(200)),
        lambda: store.set_budget("tenant", "acme", "usd", "month", Decimal("9.99")),
        lambda: store.remove_budget("agent", "agent-1", "tokens", "day"),
    ]
    version = await store.config_version()
    for write in writes:
        await write()
        version += 1
        assert await store.config_version() == version
    assert (await store.load_config()).version == version


async def test_reads_do_not_bump_the_version(store: SqlStore) -> None:
    await seed(store)
    await store.set_budget("agent", "agent-1", "tokens", "day", Decimal(100))
    version = await store.config_version()

    await store.list_budgets()
    await store.list_budgets("agent", "agent-1")

    assert await store.config_version() == version


async def test_concurrent_sets_of_one_budget_leave_one_row(database_url: str) -> None:
    first, second = await open_store(database_url), await open_store(database_url)
    try:
        await seed(first)
        version = await first.config_version()
        async with anyio.create_task_group() as group:
            for index in range(10):
                writer = first if index % 2 else second
                limit = Decimal(100 + index)
                group.start_soon(writer.set_budget, "agent", "agent-1", "tokens", "day", limit)
        listed = await first.list_budgets()
        assert await first.config_version() == version + 10
    finally:
        await first.close()
        await second.close()

    assert len(listed) == 1
    assert 100 <= listed[0].limit <= 109


async def test_the_snapshot_gathers_each_agents_ceilings(store: SqlStore) -> None:
    await seed(store)  # acme > ws > agent-1
    await store.create_workspace("lab", "acme")
    await store.create_agent("agent-2", "lab", HASH_B, "dome_bbb")
    await store.create_tenant("other")
    await store.create_workspace("far", "other")
    await store.create_agent("loner", "far", "c" * 64, "dome_ccc")
    await store.set_budget("tenant", "acme", "usd", "month", Decimal(50))
    await store.set_budget("workspace", "ws", "tokens", "day", Decimal(5000))
    await store.set_budget("agent", "agent-1", "usd", "hour", Decimal("0.5"))
    await store.set_budget("agent", "agent-1", "tokens", "total", Decimal(10**6))
    await store.set_budget("agent", "agent-2", "tokens", "week", Decimal(99))
    await store.revoke_agent("agent-2")

    snapshot = build_snapshot(await store.load_config(), Keyring((generate_key(),)))

    tenant = Ceiling("tenant", "acme", "usd", "month", Decimal(50))
    assert snapshot.ceilings_for("agent-1") == (
        Ceiling("agent", "agent-1", "tokens", "total", Decimal(10**6)),
        Ceiling("agent", "agent-1", "usd", "hour", Decimal("0.5")),
        Ceiling("workspace", "ws", "tokens", "day", Decimal(5000)),
        tenant,
    )
    # A revoked agent keeps its ceilings (its status can still be shown).
    assert snapshot.ceilings_for("agent-2") == (
        Ceiling("agent", "agent-2", "tokens", "week", Decimal(99)),
        tenant,
    )
    assert snapshot.ceilings_for("loner") == ()
    assert snapshot.ceilings_for("ghost") == ()
    assert set(snapshot.agent_ceilings) == {"agent-1", "agent-2", "loner"}


async def test_an_agent_created_after_a_workspace_budget_is_in_its_scope(
    store: SqlStore,
) -> None:
    await seed(store)
    await store.set_budget("workspace", "ws", "tokens", "hour", Decimal(7))
    await store.create_agent("late", "ws", HASH_B, "dome_late")

    snapshot = build_snapshot(await store.load_config(), Keyring((generate_key(),)))

    ceiling = Ceiling("workspace", "ws", "tokens", "hour", Decimal(7))
    assert snapshot.ceilings_for("late") == (ceiling,)
    assert snapshot.ceilings_for("agent-1") == (ceiling,)
    assert HASH_A in snapshot.agents_by_token_hash


@pytest.mark.parametrize(
    "limit", [Decimal(0), Decimal(-1), Decimal("NaN"), Decimal("2.5"), Decimal(MAX_UNITS + 1)]
)
async def test_a_snapshot_with_a_budget_no_ceiling_may_have_is_refused(
    store: SqlStore, limit: Decimal
) -> None:
    # Only a database changed behind the store's back holds one: the old snapshot serves.
    await seed(store)
    rows = await store.load_config()
    bad = BudgetRow("agent", "agent-1", "tokens", "day", limit)

    with pytest.raises(ConfigError, match="agent 'agent-1': tokens budget per day"):
        build_snapshot(replace(rows, budgets=(bad,)), Keyring((generate_key(),)))
