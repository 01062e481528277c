"""The Store contract for policy versions and for the policy decisions in audit rows,
on every implementation (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from dome.store import PolicyRecord, SqlStore, open_store, policy_digest
from tests.integration.store.samples import T0, FixedClock, assert_utc, audit_row, sealed

pytestmark = pytest.mark.anyio

ALLOW = PolicyRecord(
    id="acme.allow-research",
    scope="tenant:acme",
    text='@id("acme.allow-research")\npermit(principal in Tenant::"acme", action, resource);',
    file="rules.cedar",
)
DENY = PolicyRecord(
    id="acme.eu-only",
    scope="tenant:acme",
    text='forbid(principal, action, resource) when { resource.region != "eu" };',
    file="rules.cedar",
)
CONTEXT = {
    "principal": {"type": "Agent", "id": "agent-1"},
    "action": {"type": "Action", "id": "invoke"},
    "resource": {"type": "Model", "id": "claude"},
    "context": {"classification": "internal", "classification_level": 1, "stream": True},
}


async def test_no_policies_before_the_first_publish(store: SqlStore) -> None:
    assert await store.current_policies() is None
    assert await store.policy_versions() == []
    assert await store.policy_version(1) is None
    assert (await store.load_config()).policies is None


async def test_publish_numbers_versions_and_the_newest_is_current(
    store: SqlStore, database_url: str
) -> None:
    clocked = await open_store(database_url, clock=FixedClock(T0))
    try:
        first = await clocked.publish_policies([ALLOW], "apply rules.cedar at tenant:acme")
        second = await clocked.publish_policies([ALLOW, DENY], "apply more.cedar at tenant:acme")
        third = await clocked.publish_policies([], "remove acme.allow-research")
    finally:
        await clocked.close()

    assert (first, second, third) == (1, 2, 3)
    current = await store.current_policies()
    assert current is not None
    assert (current.version, current.policies, current.note) == (
        3,
        (),
        "remove acme.allow-research",
    )
    version_two = await store.policy_version(2)
    assert version_two is not None
    assert version_two.policies == (ALLOW, DENY)
    assert version_two.digest == policy_digest([ALLOW, DENY])
    assert version_two.created_at == T0
    assert_utc(version_two.created_at)
    summaries = await store.policy_versions()
    assert [(s.version, s.count, s.note) for s in summaries] == [
        (3, 0, "remove acme.allow-research"),
        (2, 2, "apply more.cedar at tenant:acme"),
        (1, 1, "apply rules.cedar at tenant:acme"),
    ]
    assert summaries[1].digest == version_two.digest
    assert (await store.load_config()).policies == current


async def test_publish_bumps_the_config_version(store: SqlStore) -> None:
    version = await store.config_version()

    await store.publish_policies([ALLOW], "apply rules.cedar at tenant:acme")

    rows = await store.load_config()
    assert rows.version == version + 1
    assert rows.policies is not None
    assert rows.policies.policies == (ALLOW,)


async def test_a_rollback_is_a_new_version_with_the_old_records(store: SqlStore) -> None:
    await store.publish_policies([ALLOW], "apply rules.cedar at tenant:acme")
    await store.publish_policies([ALLOW, DENY], "apply more.cedar at tenant:acme")
    old = await store.policy_version(1)
    assert old is not None

    version = await store.publish_policies(old.policies, "rollback to 1")

    current = await store.current_policies()
    assert current is not None
    assert (version, current.version, current.policies) == (3, 3, (ALLOW,))
    assert current.digest == old.digest


def test_the_digest_depends_on_content_and_order() -> None:
    assert policy_digest([ALLOW, DENY]) == policy_digest([ALLOW, DENY])
    assert policy_digest([ALLOW, DENY]) != policy_digest([DENY, ALLOW])
    assert policy_digest([ALLOW]) != policy_digest(
        [PolicyRecord(**{**vars_of(ALLOW), "file": "x"})]
    )
    assert len(policy_digest([])) == 64


def vars_of(record: PolicyRecord) -> dict[str, str]:
    return {"id": record.id, "scope": record.scope, "text": record.text, "file": record.file}


async def test_concurrent_publishers_get_distinct_versions(
    store: SqlStore, database_url: str
) -> None:
    other = await open_store(database_url)
    versions: dict[int, int] = {}
    config_version = await store.config_version()

    async def publish(index: int) -> None:
        target = store if index % 2 else other
        versions[index] = await target.publish_policies([ALLOW], f"publish {index}")

    try:
        async with anyio.create_task_group() as group:
            for index in range(12):
                group.start_soon(publish, index)
    finally:
        await other.close()

    assert sorted(versions.values()) == list(range(1, 13))
    summaries = await store.policy_versions()
    assert {s.note: s.version for s in summaries} == {
        f"publish {index}": version for index, version in versions.items()
    }
    assert await store.config_version() == config_version + 12


# decisions in the audit


async def test_audit_rows_keep_their_decision(store: SqlStore) -> None:
    rows = [
        audit_row(
            "c1",
            T0,
            decision="allow",
            policy_ids=["acme.allow-research"],
            policy_version=2,
            policy_context=CONTEXT,
        ),
        audit_row(
            "c2",
            T0 + timedelta(seconds=1),
            status=403,
            decision="deny",
            policy_ids=[],
            policy_version=2,
            policy_context={**CONTEXT, "context": {"nested": [1, None, {"a": "b"}]}},
        ),
        audit_row("c3", T0 + timedelta(seconds=2)),  # no policy evaluated
    ]

    await store.insert_audit(sealed(rows))

    assert await store.tail_audit(10) == rows[::-1]
    (undecided,) = await store.tail_audit(1)
    assert (undecided.decision, undecided.policy_ids, undecided.policy_context) == (
        None,
        None,
        None,
    )


async def test_recent_decisions_skips_rows_without_one(store: SqlStore) -> None:
    rows = [
        audit_row(f"c{i}", T0 + timedelta(seconds=i), decision="allow" if i % 2 else None)
        for i in range(8)
    ]
    await store.insert_audit(sealed(rows))

    recent = await store.recent_decisions(3)

    assert [row.call_id for row in recent] == ["c7", "c5", "c3"]
    assert [row.call_id for row in await store.recent_decisions(100)] == ["c7", "c5", "c3", "c1"]
    assert await store.recent_decisions(0) == []


async def test_a_large_batch_with_decisions_round_trips(store: SqlStore) -> None:
    # 300 rows: SQLite splits them into statements of 256, 32, 8 and 4 rows.
    rows = [
        audit_row(
            f"c{i:03}",
            T0 + timedelta(milliseconds=i),
            decision=("allow", "deny", None)[i % 3],
            policy_ids=None if i % 3 == 2 else [f"p{i}"],
            policy_version=None if i % 3 == 2 else i,
            policy_context=None if i % 3 == 2 else {"i": i},
            usage=None if i % 5 == 0 else {"n": i},
        )
        for i in range(300)
    ]

    await store.insert_audit(sealed(rows))

    assert await store.tail_audit(1000) == rows[::-1]
    assert len(await store.recent_decisions(1000)) == 200
