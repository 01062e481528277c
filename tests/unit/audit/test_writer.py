"""The audit writer seals records into its chain, batches them, journals call starts,
retries failed writes as sealed, and drains on close."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dome.audit import AuditUnavailableError, AuditWriter, Chain, verify
from dome.audit.journal import StartJournal, orphans
from dome.store.records import AuditRow, ChainedAuditRow, SealedAuditRow

KEY = b"k" * 32


def row(number: int, kind: str = "call") -> AuditRow:
    return AuditRow(
        call_id=f"call_{number}",
        kind=kind,  # type: ignore[arg-type]
        started_at=datetime.now(UTC),
        agent="a",
        workspace="w",
        tenant="t",
        endpoint="chat",
        requested_model="m",
        served_model="m",
        model_entry="m",
        provider="mock",
        format_in="openai",
        format_out="openai",
        stream=False,
        status=200,
        error_type=None,
        latency_ms=1.0,
        ttft_ms=0.5,
        input_tokens=1,
        output_tokens=1,
        usage=None,
    )


class FlakySink:
    def __init__(self, failures: int = 0, delay: float = 0.0) -> None:
        self.failures = failures
        self.delay = delay
        self.batches: list[list[SealedAuditRow]] = []

    async def __call__(self, rows: Sequence[SealedAuditRow]) -> None:
        await asyncio.sleep(self.delay)
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database down")
        self.batches.append(list(rows))

    @property
    def calls(self) -> list[str]:
        return [sealed.row.call_id for batch in self.batches for sealed in batch]

    def stored(self) -> list[ChainedAuditRow]:
        sealed = [s for batch in self.batches for s in batch]
        return [
            ChainedAuditRow(i, s.row, s.chain, s.seq, s.prev_hash, s.hash)
            for i, s in enumerate(sealed, start=1)
        ]


def writer_for(
    sink: FlakySink, journal: StartJournal | None = None, **options: float
) -> AuditWriter:
    if journal is None:
        journal = StartJournal(Path(tempfile.mkdtemp()), "chain_test")
        journal.open()
    return AuditWriter(sink, Chain(KEY), journal, **options)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_batches_and_drains_on_close() -> None:
    sink = FlakySink()
    writer = writer_for(sink, batch_size=3, flush_interval=10)
    task = asyncio.ensure_future(writer.run())
    for number in range(7):
        writer.submit(row(number))
    await asyncio.sleep(0.05)
    await writer.close()
    await task
    assert sink.calls == [f"call_{n}" for n in range(7)]
    assert max(len(batch) for batch in sink.batches) <= 3
    assert writer.backlog == 0


@pytest.mark.anyio
async def test_a_start_is_journaled_at_once_and_forgotten_when_its_call_ended(
    tmp_path: Path,
) -> None:
    journal = StartJournal(tmp_path, "chain_a")
    journal.open()
    sink = FlakySink()
    writer = writer_for(sink, journal, flush_interval=10)
    task = asyncio.ensure_future(writer.run())
    writer.started(row(1, "call_started"))
    writer.started(row(2, "call_started"))
    assert journal_lines(tmp_path, "chain_a") == 2  # on disk before any batch
    assert sink.batches == []
    writer.submit(row(1))  # call 1 ended
    await writer.flush()
    assert orphans_of(tmp_path) == []  # the live writer's journal is not an orphan
    await writer.close()  # call 2 never ended: its start stays for recovery
    await task
    assert [r.call_id for r in orphans_of(tmp_path)] == ["call_1", "call_2"]


def journal_lines(directory: Path, chain: str) -> int:
    (segment,) = directory.glob(f"{chain}.*.jsonl")
    return len(segment.read_bytes().splitlines())


def files_in(directory: Path) -> list[Path]:
    return list(directory.iterdir())


def orphans_of(directory: Path) -> list[AuditRow]:
    return orphans(directory).starts


@pytest.mark.anyio
async def test_a_clean_shutdown_leaves_no_journal(tmp_path: Path) -> None:
    journal = StartJournal(tmp_path, "chain_b")
    journal.open()
    writer = writer_for(FlakySink(), journal, flush_interval=10)
    for number in range(3):
        writer.started(row(number, "call_started"))
        writer.submit(row(number))
    await writer.close()
    assert files_in(tmp_path) == []


def test_a_journal_that_cannot_be_written_refuses_the_call(tmp_path: Path) -> None:
    journal = StartJournal(tmp_path, "chain_c")
    journal.open()
    writer = writer_for(FlakySink(), journal)
    for segment in journal._segments:
        os.close(segment.fd)
    with pytest.raises(AuditUnavailableError):
        writer.started(row(1, "call_started"))


@pytest.mark.anyio
async def test_a_failed_batch_is_retried_as_sealed_so_the_chain_holds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = FlakySink(failures=2)
    writer = writer_for(sink, batch_size=10, flush_interval=0.01, retry_delay=0.01)
    task = asyncio.ensure_future(writer.run())
    writer.submit(row(1))
    writer.submit(row(2))
    for _ in range(100):
        if sink.batches:
            break
        await asyncio.sleep(0.01)
    writer.submit(row(3))
    await writer.close()
    await task
    assert sink.calls == ["call_1", "call_2", "call_3"]
    assert "will retry" in caplog.text
    stored = sink.stored()
    assert [s.seq for s in stored] == [1, 2, 3]
    last = stored[-1]
    assert verify(KEY, stored, {last.chain or "": (3, last.hash or "")}).ok


def test_verify_finds_each_kind_of_tampering() -> None:
    chain = Chain(KEY)
    sealed = [chain.seal(row(n)) for n in range(1, 6)]
    stored = [
        ChainedAuditRow(i, s.row, s.chain, s.seq, s.prev_hash, s.hash)
        for i, s in enumerate(sealed, start=1)
    ]
    heads = {chain.id: (chain.seq, chain.head)}
    assert verify(KEY, stored, heads).ok

    changed = list(stored)
    changed[1] = replace(changed[1], row=replace(changed[1].row, output_tokens=999))
    assert [f.problem for f in verify(KEY, changed, heads).findings] == ["changed"]

    deleted = stored[:2] + stored[3:]
    assert [(f.problem, f.seq) for f in verify(KEY, deleted, heads).findings] == [("deleted", 3)]

    truncated = stored[:-1]
    assert [f.problem for f in verify(KEY, truncated, heads).findings] == ["truncated"]

    # A record forged without the key cannot take a real one's place.
    forged_chain = Chain(b"x" * 32, id=chain.id)
    forged = [forged_chain.seal(row(n)) for n in range(1, 3)]
    swapped = list(stored)
    swapped[1] = replace(stored[1], prev_hash=forged[1].prev_hash, hash=forged[1].hash)
    assert "changed" in [f.problem for f in verify(KEY, swapped, heads).findings]

    assert [f.problem for f in verify(KEY, stored, {}).findings] == ["unanchored"]


@pytest.mark.anyio
async def test_a_full_queue_holds_new_calls_until_the_store_catches_up() -> None:
    sink = FlakySink(delay=0.05)
    writer = writer_for(sink, flush_interval=10, max_backlog=5)
    task = asyncio.ensure_future(writer.run())
    await writer.room()  # empty: no wait
    for number in range(5):
        writer.submit(row(number))
    waiting = asyncio.ensure_future(writer.room())
    await asyncio.sleep(0.01)
    assert not waiting.done()  # five queued: the next call waits
    await asyncio.wait_for(waiting, 1)
    assert sink.calls == [f"call_{n}" for n in range(5)]
    await writer.close()
    await task


@pytest.mark.anyio
async def test_a_full_queue_and_a_dead_store_refuse_the_call_in_time() -> None:
    sink = FlakySink(failures=1000)
    writer = writer_for(sink, flush_interval=10, retry_delay=0.01, max_backlog=2, room_timeout=0.2)
    task = asyncio.ensure_future(writer.run())
    writer.submit(row(1))
    writer.submit(row(2))
    with pytest.raises(AuditUnavailableError):
        await writer.room()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
