"""The Store contract for keys and audit, on every implementation (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest
from sqlalchemy.exc import IntegrityError

from dome.audit import Chain, verify
from dome.store import SqlStore, open_store
from tests.integration.store.samples import AUDIT_KEY, T0, audit_row, model, sealed

pytestmark = pytest.mark.anyio


# keys


async def test_keys(store: SqlStore) -> None:
    assert await store.get_key("hmac") is None

    first = await store.put_key_if_absent("hmac", b"\x00first")
    second = await store.put_key_if_absent("hmac", b"second")

    assert first == second == b"\x00first"
    assert await store.get_key("hmac") == b"\x00first"


async def test_concurrent_put_key_if_absent_agree(store: SqlStore, database_url: str) -> None:
    other = await open_store(database_url)
    results: dict[int, bytes] = {}

    async def put(index: int) -> None:
        target = store if index % 2 else other
        results[index] = await target.put_key_if_absent("race", f"value-{index}".encode())

    try:
        async with anyio.create_task_group() as group:
            for index in range(16):
                group.start_soon(put, index)
    finally:
        await other.close()

    stored = await store.get_key("race")
    assert stored is not None
    assert set(results.values()) == {stored}


async def test_replace_ciphertexts(store: SqlStore) -> None:
    await store.add_model(model("one", b"old-1"))
    await store.add_model(model("two", b"old-2"))
    await store.add_model(model("keyless", None))
    await store.put_key_if_absent("dek", b"old-key")

    await store.replace_ciphertexts(
        [("one", b"new-1"), ("two", b"new-2")], [("dek", b"new-key"), ("dek-2", b"added")]
    )

    credentials = {row.name: row.credential for row in (await store.load_config()).models}
    assert credentials == {"one": b"new-1", "two": b"new-2", "keyless": None}
    assert await store.get_key("dek") == b"new-key"
    assert await store.get_key("dek-2") == b"added"


async def test_replace_ciphertexts_skips_removed_models(store: SqlStore) -> None:
    kept = await store.add_model(model("one", b"old-1"))

    await store.replace_ciphertexts([("one", b"new-1"), ("removed", b"x")], [])

    (row,) = (await store.load_config()).models
    assert row.credential == b"new-1"
    assert row.created_at == kept.created_at


async def test_replace_ciphertexts_is_all_or_nothing(store: SqlStore) -> None:
    await store.add_model(model("one", b"old-1"))
    await store.put_key_if_absent("dek", b"old-key")
    before = await store.load_config()
    broken_key = ("dek-2", None)  # NOT NULL fails after the credentials were rewritten

    with pytest.raises(IntegrityError):
        await store.replace_ciphertexts([("one", b"new")], [("dek", b"new"), broken_key])  # type: ignore[list-item]

    assert await store.load_config() == before
    assert await store.get_key("dek") == b"old-key"


# audit


async def test_insert_and_tail_audit(store: SqlStore) -> None:
    rows = [
        audit_row("c1", T0),
        audit_row("c3", T0 + timedelta(seconds=2), stream=False, usage=None, ttft_ms=None),
        audit_row("c2", T0 + timedelta(seconds=1), status=429, error_type="rate_limit"),
    ]

    await store.insert_audit(sealed(rows))

    assert await store.tail_audit(10) == [rows[1], rows[2], rows[0]]
    assert await store.tail_audit(2) == [rows[1], rows[2]]
    assert await store.tail_audit(0) == []


async def test_a_retried_batch_is_not_written_twice(store: SqlStore) -> None:
    chain = Chain(AUDIT_KEY)
    batch = sealed([audit_row(f"c{i}", T0 + timedelta(seconds=i)) for i in range(3)], chain)
    await store.insert_audit(batch)

    await store.insert_audit(batch)  # a retried batch whose commit was not seen
    await store.insert_audit([batch[2], *sealed([audit_row("c3", T0)], chain)])
    await store.insert_audit([])

    tail = await store.tail_audit(100)
    assert sorted(row.call_id for row in tail) == ["c0", "c1", "c2", "c3"]
    assert await store.chain_heads() == {chain.id: (4, chain.head)}
    await store.insert_audit(batch[:1])  # an old batch again never moves the head back
    assert await store.chain_heads() == {chain.id: (4, chain.head)}


async def test_a_call_reads_back_as_its_start_attempts_and_end(store: SqlStore) -> None:
    started = audit_row("c1", T0, kind="call_started", status=0, latency_ms=0.0, ttft_ms=None)
    attempt = audit_row("c1", T0, kind="attempt", attempt=1, outcome="ok", detail="answered")
    ended = audit_row("c1", T0, outcome="ok", cost_usd="0.000096", cost_nano_usd=96000)
    other = audit_row("c2", T0 + timedelta(seconds=1))
    await store.insert_audit(sealed([started, attempt, other, ended]))

    assert await store.call_records("c1") == [started, attempt, ended]
    assert [row.call_id for row in await store.tail_audit(10)] == ["c2", "c1"]  # ends only
    assert await store.call_records("nope") == []


async def test_records_verify_after_the_round_trip(store: SqlStore) -> None:
    """What the database gives back hashes to what was sealed: times, floats, JSON,
    Decimal text and every optional column, on each backend."""
    chain = Chain(AUDIT_KEY)
    rows = [
        audit_row(
            f"c{i}",
            T0 + timedelta(microseconds=i * 1234567),
            kind="attempt" if i % 3 == 1 else "call",
            attempt=1 if i % 3 == 1 else None,
            latency_ms=0.1 * i + 1e-3,
            policy_context={"context": {"estimated_tokens": i, "ratio": 0.1, "tags": ["x", "é"]}},
            cost_usd="0.00000015",
            cost_nano_usd=150,
            cache_read_tokens=i,
            usage_estimated=i % 2 == 0,
            budget="admitted",
        )
        for i in range(12)
    ]
    await store.insert_audit(sealed(rows, chain))
    pages, after = [], None
    while page := await store.chained_records(after, 5):
        pages.append(page)
        after = (page[-1].chain or "", page[-1].seq or 0)
    assert [len(page) for page in pages] == [5, 5, 2]
    report = verify(AUDIT_KEY, [r for page in pages for r in page], await store.chain_heads())
    assert report.ok, report.findings
    assert (report.records, report.chains) == (12, 1)
    assert await store.unchained_count() == 0


ATTEMPTS = [
    {"model": "a", "outcome": "error", "status": 429, "latency_ms": 12.5, "why": "rate limited"},
    {"model": "b", "outcome": "ok", "status": 200, "latency_ms": 80.0, "why": None},
]


async def test_audit_keeps_the_attempts_and_the_pool(store: SqlStore) -> None:
    # 40 rows: SQLite splits them into statements of 32 and 8 rows.
    rows = [
        audit_row(
            f"c{i:02}",
            T0 + timedelta(milliseconds=i),
            attempts=None if i % 3 == 0 else ATTEMPTS[: i % 3],
            pool=None if i % 2 else "cheap",
        )
        for i in range(40)
    ]

    await store.insert_audit(sealed(rows))

    assert await store.tail_audit(100) == rows[::-1]
    (newest,) = await store.tail_audit(1)
    assert (newest.attempts, newest.pool) == (None, None)  # c39: no upstream, no pool
    assert [row.attempts for row in await store.tail_audit(3)][1:] == [ATTEMPTS[:2], ATTEMPTS[:1]]
