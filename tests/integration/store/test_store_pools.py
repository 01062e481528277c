"""The Store contract for pools and their members, on SQLite and PostgreSQL: round trips,
one namespace for pool and model names, members that keep their models, and the config
version bumped by every change."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dome.errors import ConflictError, NotFoundError
from dome.store import PoolMemberRow, PoolRow, SqlStore, open_store
from tests.integration.store.samples import T0, FixedClock, Write, model

pytestmark = pytest.mark.anyio

CHEAP = {"request.model": ["claude-haiku-4-5", "gpt-5-mini"]}


async def models(store: SqlStore, *names: str) -> None:
    for name in names:
        await store.add_model(model(name))


async def test_a_new_pool_round_trips(store: SqlStore, database_url: str) -> None:
    clocked = await open_store(database_url, clock=FixedClock(T0))
    try:
        created = await clocked.create_pool("cheap", match_when=CHEAP, strategy="cost", order=5)
        plain = await clocked.create_pool("any")
    finally:
        await clocked.close()

    assert created == PoolRow("cheap", CHEAP, "cost", 5, (), T0)
    assert plain == PoolRow("any", {}, "priority", 0, (), T0)
    assert (await store.load_config()).pools == (plain, created)  # by (order, name)


async def test_pools_are_listed_by_order_then_name(store: SqlStore) -> None:
    for name, order in (("b", 1), ("a", 1), ("z", -3), ("c", 0)):
        await store.create_pool(name, order=order)

    assert [pool.name for pool in (await store.load_config()).pools] == ["z", "c", "a", "b"]


async def test_members_are_sorted_by_priority_then_model(store: SqlStore) -> None:
    await models(store, "m-b", "m-a", "m-c", "m-d")
    await store.create_pool("p", match_when=CHEAP)

    await store.add_pool_member("p", "m-c", priority=2)
    await store.add_pool_member("p", "m-b", priority=-1, weight=10)
    await store.add_pool_member("p", "m-d", priority=2, weight=3)
    pool = await store.add_pool_member("p", "m-a", priority=2)

    assert pool.members == (
        PoolMemberRow("m-b", -1, 10),
        PoolMemberRow("m-a", 2, 1),
        PoolMemberRow("m-c", 2, 1),
        PoolMemberRow("m-d", 2, 3),
    )
    (loaded,) = (await store.load_config()).pools
    assert loaded == pool


async def test_adding_a_member_again_sets_its_priority_and_weight(store: SqlStore) -> None:
    await models(store, "m")
    await store.create_pool("p")
    await store.add_pool_member("p", "m", priority=3, weight=7)

    again = await store.add_pool_member("p", "m", priority=-2, weight=1)

    assert again.members == (PoolMemberRow("m", -2, 1),)
    assert (await store.load_config()).pools == (again,)


async def test_a_model_may_be_a_member_of_several_pools(store: SqlStore) -> None:
    await models(store, "m")
    await store.create_pool("p1")
    await store.create_pool("p2")

    await store.add_pool_member("p1", "m")
    await store.add_pool_member("p2", "m", weight=4)

    rows = await store.load_config()
    assert [pool.members for pool in rows.pools] == [
        (PoolMemberRow("m"),),
        (PoolMemberRow("m", 0, 4),),
    ]


async def test_update_pool_changes_only_the_given_fields(store: SqlStore) -> None:
    created = await store.create_pool("p", match_when=CHEAP, strategy="weighted", order=2)

    strategy = await store.update_pool("p", strategy="cascade")
    matched = await store.update_pool("p", match_when={"agent.tenant": ["acme"]})
    ordered = await store.update_pool("p", order=-1)
    unchanged = await store.update_pool("p")

    assert (strategy.strategy, strategy.match_when, strategy.order) == ("cascade", CHEAP, 2)
    assert (matched.strategy, matched.match_when) == ("cascade", {"agent.tenant": ["acme"]})
    assert ordered == replace(matched, order=-1)
    assert unchanged == ordered
    assert ordered.created_at == created.created_at
    assert (await store.load_config()).pools == (ordered,)


async def test_remove_member_and_pool(store: SqlStore) -> None:
    await models(store, "m1", "m2")
    await store.create_pool("p")
    await store.add_pool_member("p", "m1")
    await store.add_pool_member("p", "m2")

    left = await store.remove_pool_member("p", "m1")
    await store.remove_pool("p")

    assert left.members == (PoolMemberRow("m2"),)
    rows = await store.load_config()
    assert rows.pools == ()
    assert [entry.name for entry in rows.models] == ["m1", "m2"]  # the models stay
    await store.remove_model("m2")  # no membership holds it any more


async def test_a_pool_takes_no_name_of_a_model_and_a_model_none_of_a_pool(
    store: SqlStore,
) -> None:
    await models(store, "anthropic-prod")
    await store.create_pool("cheap")
    before = await store.load_config()

    with pytest.raises(ConflictError) as pool_named_like_a_model:
        await store.create_pool("anthropic-prod")
    with pytest.raises(ConflictError) as model_named_like_a_pool:
        await store.add_model(model("cheap"))
    with pytest.raises(ConflictError) as duplicate:
        await store.create_pool("cheap")

    assert pool_named_like_a_model.value.message == (
        "a model is named 'anthropic-prod': pool and model names share one namespace"
    )
    assert model_named_like_a_pool.value.message == (
        "a pool is named 'cheap': pool and model names share one namespace"
    )
    assert duplicate.value.message == "pool 'cheap' already exists"
    assert await store.load_config() == before


async def test_removing_a_model_that_is_a_member_is_refused(store: SqlStore) -> None:
    await models(store, "m")
    for pool in ("zeta", "alpha"):
        await store.create_pool(pool)
        await store.add_pool_member(pool, "m")
    before = await store.load_config()

    with pytest.raises(ConflictError) as raised:
        await store.remove_model("m")

    assert raised.value.message == (
        "model 'm' is a member of pool 'alpha', 'zeta': remove it from there first"
    )
    assert await store.load_config() == before


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("update", "pool 'ghost' not found"),
        ("update-empty", "pool 'ghost' not found"),
        ("remove", "pool 'ghost' not found"),
        ("add-to-unknown-pool", "pool 'ghost' not found"),
        ("add-unknown-model", "model 'ghost' not found"),
        ("remove-from-unknown-pool", "pool 'ghost' not found"),
        ("remove-non-member", "model 'm' is not a member of pool 'p'"),
        ("remove-unknown-model", "model 'ghost' is not a member of pool 'p'"),
    ],
)
async def test_unknown_names_are_not_found_and_change_nothing(
    store: SqlStore, kind: str, message: str
) -> None:
    await models(store, "m")
    await store.create_pool("p")
    before = await store.load_config()
    writes: dict[str, Write] = {
        "update": lambda: store.update_pool("ghost", order=1),
        "update-empty": lambda: store.update_pool("ghost"),
        "remove": lambda: store.remove_pool("ghost"),
        "add-to-unknown-pool": lambda: store.add_pool_member("ghost", "m"),
        "add-unknown-model": lambda: store.add_pool_member("p", "ghost"),
        "remove-from-unknown-pool": lambda: store.remove_pool_member("ghost", "m"),
        "remove-non-member": lambda: store.remove_pool_member("p", "m"),
        "remove-unknown-model": lambda: store.remove_pool_member("p", "ghost"),
    }

    with pytest.raises(NotFoundError) as raised:
        await writes[kind]()

    assert raised.value.message == message
    assert await store.load_config() == before


async def test_every_pool_write_bumps_the_version_by_one(store: SqlStore) -> None:
    await models(store, "m")
    writes: list[Write] = [
        lambda: store.create_pool("p", match_when=CHEAP),
        lambda: store.update_pool("p", strategy="weighted"),
        lambda: store.add_pool_member("p", "m"),
        lambda: store.add_pool_member("p", "m", weight=2),
        lambda: store.remove_pool_member("p", "m"),
        lambda: store.add_pool_member("p", "m"),
        lambda: store.remove_pool("p"),
        lambda: store.create_tenant("acme"),
        lambda: store.update_tenant("acme", region="eu"),
        lambda: store.update_model("m", input_price="3.00"),
    ]
    version = await store.config_version()
    for write in writes:
        await write()
        version += 1
        assert await store.config_version() == version
    assert (await store.load_config()).version == version
