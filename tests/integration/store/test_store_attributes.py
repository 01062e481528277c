"""The Store contract for the policy attributes of agents, workspaces and models: set
at creation, changed by update_*, read back by load_config, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dome.errors import NotFoundError
from dome.store import ModelRow, SqlStore
from tests.integration.store.samples import HASH_A, HASH_B, Write, model, seed

pytestmark = pytest.mark.anyio


async def test_new_rows_get_the_defaults(store: SqlStore) -> None:
    await seed(store)
    await store.add_model(model())

    rows = await store.load_config()

    (workspace,) = rows.workspaces
    assert (workspace.residency, workspace.max_classification) == ("", "restricted")
    assert (workspace.classification_default, workspace.classification_floor) == (None, None)
    (agent,) = rows.agents
    assert (agent.labels, agent.classification_default, agent.classification_floor) == (
        (),
        None,
        None,
    )
    (entry,) = rows.models
    assert (entry.region, entry.tier, entry.family) == ("", "standard", None)


async def test_attributes_given_at_creation_round_trip(store: SqlStore) -> None:
    await store.create_tenant("acme")
    workspace = await store.create_workspace(
        "ws",
        "acme",
        residency="eu",
        max_classification="confidential",
        classification_default="internal",
        classification_floor="public",
    )
    agent = await store.create_agent(
        "agent-1",
        "ws",
        HASH_A,
        "dome_aaa",
        labels=["team:ml", "batch"],
        classification_default="confidential",
        classification_floor="internal",
    )
    added = await store.add_model(
        replace(model(), region="eu-west-1", tier="frontier", family="claude-sonnet")
    )

    rows = await store.load_config()

    assert rows.workspaces == (workspace,)
    assert rows.agents == (agent,)
    assert rows.models == (added,)
    assert agent.labels == ("team:ml", "batch")
    assert (workspace.residency, workspace.max_classification) == ("eu", "confidential")
    assert (added.region, added.tier, added.family) == ("eu-west-1", "frontier", "claude-sonnet")


async def test_update_agent_changes_only_the_given_attributes(store: SqlStore) -> None:
    await seed(store)
    await store.create_agent("agent-2", "ws", HASH_B, "dome_bbb", labels=["keep"])

    labelled = await store.update_agent("agent-1", labels=["a", "b"])
    classified = await store.update_agent("agent-1", classification_default="confidential")
    floored = await store.update_agent("agent-1", classification_floor="internal")
    cleared = await store.update_agent("agent-1", labels=[], classification_default=None)

    assert labelled.labels == ("a", "b")
    assert (classified.labels, classified.classification_default) == (("a", "b"), "confidential")
    assert floored.classification_default == "confidential"
    assert floored.classification_floor == "internal"
    assert (cleared.labels, cleared.classification_default, cleared.classification_floor) == (
        (),
        None,
        "internal",
    )
    rows = await store.load_config()
    assert rows.agents == (cleared, replace(rows.agents[1], labels=("keep",)))
    assert (cleared.token_hash, cleared.status) == (HASH_A, "active")


async def test_update_workspace(store: SqlStore) -> None:
    await seed(store)

    first = await store.update_workspace("ws", residency="eu", max_classification="internal")
    second = await store.update_workspace(
        "ws", classification_default="public", classification_floor="public"
    )
    third = await store.update_workspace("ws", residency="", classification_floor=None)

    assert (first.residency, first.max_classification, first.tenant) == ("eu", "internal", "acme")
    assert (second.residency, second.classification_default) == ("eu", "public")
    assert (third.residency, third.classification_default, third.classification_floor) == (
        "",
        "public",
        None,
    )
    assert (await store.load_config()).workspaces == (third,)


async def test_update_model_stamps_updated_at(store: SqlStore) -> None:
    added = await store.add_model(model())

    changed = await store.update_model("claude", region="us-east-1", tier="cheap", family="x")
    derived = await store.update_model("claude", family=None)

    assert (changed.region, changed.tier, changed.family) == ("us-east-1", "cheap", "x")
    assert (derived.region, derived.tier, derived.family) == ("us-east-1", "cheap", None)
    assert derived.credential == added.credential
    assert derived.created_at == added.created_at
    assert added.updated_at is not None
    assert derived.updated_at is not None
    assert derived.updated_at >= added.updated_at
    assert (await store.load_config()).models == (derived,)


async def test_each_update_bumps_the_version_and_an_empty_one_does_not(
    store: SqlStore,
) -> None:
    await seed(store)
    await store.add_model(model())
    updates: list[Write] = [
        lambda: store.update_agent("agent-1", labels=["x"]),
        lambda: store.update_workspace("ws", residency="eu"),
        lambda: store.update_model("claude", tier="cheap"),
    ]
    version = await store.config_version()
    for update in updates:
        await update()
        version += 1
        assert await store.config_version() == version

    unchanged_agent = await store.update_agent("agent-1")
    await store.update_workspace("ws")
    unchanged_model = await store.update_model("claude")

    assert await store.config_version() == version
    assert unchanged_agent.labels == ("x",)
    assert unchanged_model.tier == "cheap"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("agent", "agent 'ghost' not found"),
        ("workspace", "workspace 'ghost' not found"),
        ("model", "model 'ghost' not found"),
        ("agent-empty", "agent 'ghost' not found"),
    ],
)
async def test_updating_an_unknown_name_is_not_found_and_changes_nothing(
    store: SqlStore, kind: str, message: str
) -> None:
    await seed(store)
    before = await store.load_config()
    updates: dict[str, Write] = {
        "agent": lambda: store.update_agent("ghost", labels=["x"]),
        "workspace": lambda: store.update_workspace("ghost", residency="eu"),
        "model": lambda: store.update_model("ghost", tier="x"),
        "agent-empty": lambda: store.update_agent("ghost"),
    }

    with pytest.raises(NotFoundError) as raised:
        await updates[kind]()

    assert raised.value.message == message
    assert await store.load_config() == before


async def test_model_rows_built_without_the_new_fields_keep_their_defaults(
    store: SqlStore,
) -> None:
    row = ModelRow("local", "mock", "mock-1", None, "none", "none", None)

    added = await store.add_model(row)

    assert (added.region, added.tier, added.family) == ("", "standard", None)
    assert (await store.load_config()).models == (added,)


# region pins and prices


async def test_region_pins_of_tenants_and_workspaces(store: SqlStore) -> None:
    plain = await store.create_tenant("acme")
    pinned = await store.create_tenant("globex", region="us")
    workspace = await store.create_workspace("ws", "acme", region="eu-2")

    tenant = await store.update_tenant("acme", region="eu")
    same = await store.update_tenant("acme")
    cleared = await store.update_workspace("ws", region=None)
    kept = await store.update_workspace("ws", residency="eu")

    assert (plain.region, pinned.region, workspace.region) == (None, "us", "eu-2")
    assert (tenant.name, tenant.region, tenant.created_at) == ("acme", "eu", plain.created_at)
    assert same == tenant
    assert (cleared.region, kept.region, kept.residency) == (None, None, "eu")
    rows = await store.load_config()
    assert rows.tenants == (tenant, pinned)
    assert rows.workspaces == (kept,)
    await store.update_workspace("ws", region="eu")
    assert (await store.load_config()).workspaces[0].region == "eu"


async def test_update_unknown_tenant_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError) as raised:
        await store.update_tenant("ghost", region="eu")

    assert raised.value.message == "tenant 'ghost' not found"


async def test_model_prices_round_trip_as_decimal_text(store: SqlStore) -> None:
    added = await store.add_model(replace(model(), input_price="3.00", output_price="15"))

    output_only = await store.update_model("claude", output_price="15.000")
    unpriced = await store.update_model("claude", input_price=None)

    assert (added.input_price, added.output_price) == ("3.00", "15")
    assert (output_only.input_price, output_only.output_price) == ("3.00", "15.000")
    assert (unpriced.input_price, unpriced.output_price) == (None, "15.000")
    assert (await store.load_config()).models == (unpriced,)
