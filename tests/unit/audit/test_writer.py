"""The audit writer batches, retries failed writes, and drains on close."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from dome.audit import AuditWriter
from dome.store.records import AuditRow


def row(number: int) -> AuditRow:
    return AuditRow(
        call_id=f"call_{number}",
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
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.batches: list[list[str]] = []

    async def __call__(self, rows: Sequence[AuditRow]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database down")
        self.batches.append([r.call_id for r in rows])


@pytest.mark.anyio
async def test_batches_and_drains_on_close() -> None:
    sink = FlakySink(failures=0)
    writer = AuditWriter(sink, batch_size=3, flush_interval=10)
    task = asyncio.ensure_future(writer.run())
    for number in range(7):
        writer.submit(row(number))
    await asyncio.sleep(0.05)
    await writer.close()
    await task
    assert [call for batch in sink.batches for call in batch] == [f"call_{n}" for n in range(7)]
    assert max(len(batch) for batch in sink.batches) <= 3
    assert writer.backlog == 0


@pytest.mark.anyio
async def test_a_failed_write_is_retried_not_lost(caplog: pytest.LogCaptureFixture) -> None:
    sink = FlakySink(failures=2)
    writer = AuditWriter(sink, batch_size=10, flush_interval=0.01, retry_delay=0.01)
    task = asyncio.ensure_future(writer.run())
    writer.submit(row(1))
    writer.submit(row(2))
    for _ in range(100):
        if sink.batches:
            break
        await asyncio.sleep(0.01)
    await writer.close()
    await task
    assert sink.batches == [["call_1", "call_2"]]
    assert "will retry" in caplog.text
