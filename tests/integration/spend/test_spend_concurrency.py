"""Ceilings hold under concurrency: 200 reservations released together against a ceiling
that admits 10 admit exactly 10, in one process and across two OS processes, on every
backend."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

import pytest

from dome.spend.counters import Charge, CounterBackend, CounterState
from tests.integration.spend.conftest import CounterStore, open_counters

pytestmark = pytest.mark.anyio

LATER = datetime.now(UTC) + timedelta(hours=1)
ADMITS = 10
AMOUNT = 7  # units per call; the limit admits exactly ADMITS calls
CALLS = 200
ROUNDS = 3


async def race(
    counters: CounterBackend, key: str, calls: int, call_prefix: str
) -> list[str | None]:
    """`calls` reservations started together: each waits at one barrier, then reserves."""
    barrier = asyncio.Barrier(calls)
    charges = [Charge(key, ADMITS * AMOUNT, AMOUNT, None), Charge(f"{key}:roomy", 10**9, 1, None)]

    async def one(i: int) -> str | None:
        await barrier.wait()
        return await counters.reserve(f"{call_prefix}-{i}", charges, LATER)

    return await asyncio.gather(*(one(i) for i in range(calls)))


@pytest.mark.timeout(90)
async def test_200_together_admit_exactly_10(counters: CounterBackend) -> None:
    for round_ in range(ROUNDS):
        key = f"race-{round_}"
        results = await race(counters, key, CALLS, f"r{round_}")

        admitted = [i for i, refused in enumerate(results) if refused is None]
        assert len(admitted) == ADMITS
        assert {refused for refused in results if refused is not None} == {key}
        assert await counters.read([key, f"{key}:roomy"]) == {
            key: CounterState(used=0, reserved=ADMITS * AMOUNT),
            f"{key}:roomy": CounterState(used=0, reserved=ADMITS),  # all or nothing
        }

        # Settling the admitted ones concurrently is as exact.
        settled = await asyncio.gather(
            *(counters.settle(f"r{round_}-{i}", {key: AMOUNT - 1}) for i in admitted),
            *(counters.settle(f"r{round_}-{i}", {key: AMOUNT - 1}) for i in admitted),
        )
        assert sorted(settled) == [False] * ADMITS + [True] * ADMITS
        assert await counters.read([key]) == {
            key: CounterState(used=ADMITS * (AMOUNT - 1), reserved=0)
        }
        # The room the smaller actuals left admits exactly that many more.
        again = await race(counters, key, 40, f"r{round_}-again")
        assert sum(refused is None for refused in again) == 1


@pytest.mark.timeout(60)
async def test_one_call_id_raced_against_itself_holds_once(counters: CounterBackend) -> None:
    """Retries of one reserve that overlap (a lost answer, retried) count once."""
    barrier = asyncio.Barrier(20)
    charges = [Charge("same", 1000, 100, None)]

    async def one() -> str | None:
        await barrier.wait()
        return await counters.reserve("the-call", charges, LATER)

    results = await asyncio.gather(*(one() for _ in range(20)))

    assert results == [None] * 20
    assert await counters.read(["same"]) == {"same": CounterState(used=0, reserved=100)}
    assert await counters.settle("the-call", {"same": 40})
    assert await counters.read(["same"]) == {"same": CounterState(used=40, reserved=0)}


# Run in a separate interpreter: connect, say "ready", then for each key read from stdin
# race `calls` reservations on it (all started together) and print how many were admitted.
WORKER = """
import asyncio, sys
from datetime import UTC, datetime, timedelta
from dome.spend.counters import Charge
from tests.integration.spend.conftest import CounterStore, open_counters

kind, url, prefix, name, calls, limit = sys.argv[1:7]
until = datetime.now(UTC) + timedelta(hours=1)

async def main():
    loop = asyncio.get_running_loop()
    async with open_counters(CounterStore(kind, url, prefix)) as counters:
        await counters.read(["warm-up"])  # connected before the first start signal
        print("ready", flush=True)
        while key := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
            charge = [Charge(key, int(limit), 1, None)]
            results = await asyncio.gather(
                *(counters.reserve(f"{name}-{key}-{i}", charge, until) for i in range(int(calls)))
            )
            print(sum(result is None for result in results), flush=True)

asyncio.run(main())
"""


class Workers:
    """OS processes racing reservations on one store, one round per key."""

    def __init__(self, store: CounterStore, processes: int, calls: int) -> None:
        root = Path(__file__).resolve().parents[3]
        self._workers = [
            subprocess.Popen(
                [
                    *(sys.executable, "-c", WORKER),
                    *(store.kind, store.url, store.prefix),
                    *(f"p{n}", str(calls), str(ADMITS)),
                ],
                cwd=root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in range(processes)
        ]

    def __enter__(self) -> Self:
        for worker in self._workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready"
        return self

    def race(self, key: str) -> list[int]:
        for worker in self._workers:  # the start signal, to every process at once
            assert worker.stdin is not None
            worker.stdin.write(f"{key}\n")
            worker.stdin.flush()
        admitted = []
        for worker in self._workers:
            assert worker.stdout is not None
            admitted.append(int(worker.stdout.readline()))
        return admitted

    def __exit__(self, *_exc: object) -> None:
        for worker in self._workers:
            if worker.poll() is None:
                assert worker.stdin is not None
                worker.stdin.close()
        for worker in self._workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            if worker.stdout is not None:
                worker.stdout.close()
        assert [worker.returncode for worker in self._workers] == [0] * len(self._workers)


def race_in_processes(store: CounterStore, keys: list[str]) -> list[list[int]]:
    with Workers(store, processes=2, calls=100) as workers:
        return [workers.race(key) for key in keys]


@pytest.mark.timeout(120)
async def test_two_processes_racing_admit_exactly_10_together(
    counter_store: CounterStore,
) -> None:
    keys = [f"xproc-{round_}" for round_ in range(ROUNDS)]

    rounds = await asyncio.to_thread(race_in_processes, counter_store, keys)

    async with open_counters(counter_store) as counters:
        for key, admitted in zip(keys, rounds, strict=True):
            assert sum(admitted) == ADMITS
            assert await counters.read([key]) == {key: CounterState(used=0, reserved=ADMITS)}
