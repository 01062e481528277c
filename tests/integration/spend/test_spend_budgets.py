"""The Budgets service: charges it builds, the errors agents get, settlement, status and
the expiry loop; over a recording backend and over the real backends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from dome.errors import (
    BudgetExceededError,
    BudgetUnavailableError,
    DomeError,
    PermissionDeniedError,
    RequestError,
    UnpricedModelError,
)
from dome.spend.budgets import Budgets, CeilingStatus, Hold, counter_backend
from dome.spend.ceilings import MAX_UNITS, Ceiling
from dome.spend.counters import Charge, CounterBackend, CounterState, CounterUnavailableError
from dome.spend.redis_counters import RedisCounters
from dome.spend.sql_counters import SqlCounters
from dome.store.engine import create_async_engine, database_urls

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 27, 23, 59, 30, tzinfo=UTC)  # 30 s before the day ends
DAY_END = datetime(2026, 11, 28, tzinfo=UTC)
TOKENS_A1 = Ceiling("agent", "a1", "tokens", "day", Decimal(10_000))
USD_WS = Ceiling("workspace", "ws", "usd", "month", Decimal("2.50"))
TOTAL_ACME = Ceiling("tenant", "acme", "tokens", "total", Decimal(1_000_000))


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class RecordingCounters:
    """A CounterBackend that records every call and answers as told."""

    refuse: str | None = None
    fail: bool = False
    calls: list[tuple[str, object]] = field(default_factory=list)
    states: dict[str, CounterState] = field(default_factory=dict)

    async def reserve(
        self, call_id: str, charges: Sequence[Charge], hold_until: datetime
    ) -> str | None:
        self.calls.append(("reserve", (call_id, list(charges), hold_until)))
        if self.fail:
            raise CounterUnavailableError("down")
        return self.refuse

    async def settle(self, call_id: str, actual: Mapping[str, int]) -> bool:
        self.calls.append(("settle", (call_id, dict(actual))))
        if self.fail:
            raise CounterUnavailableError("down")
        return True

    async def read(self, keys: Sequence[str]) -> dict[str, CounterState]:
        self.calls.append(("read", list(keys)))
        if self.fail:
            raise CounterUnavailableError("down")
        return {key: self.states.get(key, CounterState()) for key in keys}

    async def expire(self, now: datetime) -> int:
        self.calls.append(("expire", now))
        if self.fail:
            raise CounterUnavailableError("down")
        return 0

    async def close(self) -> None:
        self.calls.append(("close", None))


def budgets(backend: CounterBackend, clock: Clock | None = None) -> Budgets:
    return Budgets(backend, clock=clock or Clock(), hold_for=timedelta(minutes=11))


async def test_no_ceiling_costs_nothing() -> None:
    backend = RecordingCounters()

    hold = await budgets(backend).reserve("c1", [], 1_000_000, None)

    assert hold is None
    assert await budgets(backend).status([]) == []
    assert backend.calls == []


async def test_reserve_builds_one_charge_per_ceiling_in_units() -> None:
    backend = RecordingCounters()

    hold = await budgets(backend).reserve(
        "c1", [TOKENS_A1, USD_WS, TOTAL_ACME], 1_500, Decimal("0.0123")
    )

    assert backend.calls == [
        (
            "reserve",
            (
                "c1",
                [
                    Charge(
                        "agent:a1:tokens:day:1795737600",
                        10_000,
                        1_500,
                        DAY_END + timedelta(minutes=11),
                    ),
                    Charge(
                        "workspace:ws:usd:month:1793491200",
                        2_500_000_000,
                        12_300_000,
                        datetime(2026, 12, 1, 0, 11, tzinfo=UTC),
                    ),
                    Charge("tenant:acme:tokens:total", 1_000_000, 1_500, None),
                ],
                NOW + timedelta(minutes=11),
            ),
        )
    ]
    assert hold is not None
    assert hold.call_id == "c1"
    assert hold.hold_until == NOW + timedelta(minutes=11)
    assert [(held.ceiling, held.units) for held in hold.charges] == [
        (TOKENS_A1, 1_500),
        (USD_WS, 12_300_000),
        (TOTAL_ACME, 1_500),
    ]


async def test_exceeded_names_the_ceiling_and_when_it_resets() -> None:
    backend = RecordingCounters(refuse=TOKENS_A1.counter_key(NOW))

    with pytest.raises(BudgetExceededError) as caught:
        await budgets(backend).reserve("c1", [USD_WS, TOKENS_A1], 500, Decimal(1))

    error = caught.value
    assert isinstance(error, RequestError)
    assert error.status_code == 429
    assert error.error_type == "budget_exceeded"
    assert error.ceiling_id == "agent:a1:tokens:day"
    assert error.retry_after == 30
    assert error.message == (
        "budget exceeded: agent 'a1' may use 10000 tokens per day; resets at 2026-11-28T00:00:00Z"
    )


async def test_exceeded_usd_per_month() -> None:
    backend = RecordingCounters(refuse=USD_WS.counter_key(NOW))

    with pytest.raises(BudgetExceededError) as caught:
        await budgets(backend).reserve("c1", [TOKENS_A1, USD_WS], 500, Decimal(1))

    assert caught.value.ceiling_id == "workspace:ws:usd:month"
    assert caught.value.retry_after == 3 * 24 * 3600 + 30  # until 2026-12-01
    assert caught.value.message == (
        "budget exceeded: workspace 'ws' may spend 2.50 USD per month; "
        "resets at 2026-12-01T00:00:00Z"
    )


async def test_a_total_ceiling_never_resets() -> None:
    backend = RecordingCounters(refuse=TOTAL_ACME.id)

    with pytest.raises(BudgetExceededError) as caught:
        await budgets(backend).reserve("c1", [TOTAL_ACME], 500, None)

    assert caught.value.retry_after is None
    assert caught.value.ceiling_id == "tenant:acme:tokens:total"
    assert caught.value.message == (
        "budget exceeded: tenant 'acme' may use 1000000 tokens in total; it does not reset"
    )


async def test_retry_after_rounds_up_to_whole_seconds() -> None:
    clock = Clock(DAY_END - timedelta(milliseconds=1))
    backend = RecordingCounters(refuse=TOKENS_A1.counter_key(clock.now))

    with pytest.raises(BudgetExceededError) as caught:
        await budgets(backend, clock).reserve("c1", [TOKENS_A1], 1, None)

    assert caught.value.retry_after == 1


async def test_an_estimate_over_the_limit_is_refused_without_the_store() -> None:
    backend = RecordingCounters()

    with pytest.raises(BudgetExceededError) as caught:
        await budgets(backend).reserve("c1", [USD_WS, TOKENS_A1], 10_001, Decimal(1))

    assert caught.value.ceiling_id == TOKENS_A1.id
    assert backend.calls == []


async def test_a_usd_ceiling_with_an_unpriced_model_is_refused() -> None:
    backend = RecordingCounters()

    with pytest.raises(UnpricedModelError) as caught:
        await budgets(backend).reserve("c1", [TOKENS_A1, USD_WS], 10, None, model="llama-local")

    error = caught.value
    assert isinstance(error, PermissionDeniedError)
    assert error.status_code == 403
    assert error.error_type == "permission_error"
    assert "model 'llama-local' has no price" in error.message
    assert "workspace 'ws'" in error.message
    assert "price" in error.message
    assert backend.calls == []


async def test_an_unpriced_model_is_fine_under_token_ceilings_only() -> None:
    backend = RecordingCounters()

    hold = await budgets(backend).reserve("c1", [TOKENS_A1], 10, None, model="llama-local")

    assert hold is not None
    assert [held.units for held in hold.charges] == [10]


async def test_an_unreachable_store_fails_closed() -> None:
    backend = RecordingCounters(fail=True)
    service = budgets(backend)

    with pytest.raises(BudgetUnavailableError) as caught:
        await service.reserve("c1", [TOKENS_A1], 10, None)
    error = caught.value
    assert isinstance(error, DomeError)
    assert not isinstance(error, RequestError)
    assert (error.status_code, error.error_type, error.retry_after) == (
        503,
        "overloaded_error",
        5,
    )
    assert isinstance(error.__cause__, CounterUnavailableError)

    hold = Hold("c1", (), NOW)
    with pytest.raises(BudgetUnavailableError):
        await service.settle(hold, 10, None)
    with pytest.raises(BudgetUnavailableError):
        await service.status([TOKENS_A1])


async def test_settle_charges_actual_units_per_metric() -> None:
    backend = RecordingCounters()
    service = budgets(backend)
    hold = await service.reserve("c1", [TOKENS_A1, USD_WS], 2_000, Decimal("0.05"))
    assert hold is not None

    await service.settle(hold, 1_234, Decimal("0.0000000011"))

    assert backend.calls[-1] == (
        "settle",
        ("c1", {TOKENS_A1.counter_key(NOW): 1_234, USD_WS.counter_key(NOW): 2}),
    )


async def test_settle_without_a_price_charges_what_was_held() -> None:
    backend = RecordingCounters()
    service = budgets(backend)
    hold = await service.reserve("c1", [TOKENS_A1, USD_WS], 2_000, Decimal("0.05"))
    assert hold is not None

    await service.settle(hold, 800, None)

    assert backend.calls[-1] == (
        "settle",
        ("c1", {TOKENS_A1.counter_key(NOW): 800, USD_WS.counter_key(NOW): 50_000_000}),
    )


async def test_settle_keys_stay_those_of_the_reservation_window() -> None:
    clock = Clock()
    backend = RecordingCounters()
    service = budgets(backend, clock)
    hold = await service.reserve("c1", [TOKENS_A1], 100, None)
    assert hold is not None

    clock.now = DAY_END + timedelta(minutes=5)  # the call ended after midnight
    await service.settle(hold, 90, None)

    assert backend.calls[-1] == ("settle", ("c1", {TOKENS_A1.counter_key(NOW): 90}))


async def test_negative_usage_is_a_value_error() -> None:
    service = budgets(RecordingCounters())
    with pytest.raises(ValueError):
        await service.reserve("c1", [TOKENS_A1], -1, None)
    with pytest.raises(ValueError):
        await service.reserve("c1", [USD_WS], 1, Decimal(-1))
    with pytest.raises(ValueError):
        await service.settle(Hold("c1", (), NOW), -5, None)


async def test_huge_actuals_are_capped_at_the_counting_bound() -> None:
    backend = RecordingCounters()
    service = budgets(backend)
    hold = await service.reserve("c1", [TOKENS_A1], 1, None)
    assert hold is not None

    await service.settle(hold, 10**20, None)

    assert backend.calls[-1] == ("settle", ("c1", {TOKENS_A1.counter_key(NOW): MAX_UNITS}))


async def test_status_in_each_ceilings_units() -> None:
    backend = RecordingCounters(
        states={
            TOKENS_A1.counter_key(NOW): CounterState(used=7_000, reserved=2_000),
            USD_WS.counter_key(NOW): CounterState(used=2_000_000_001, reserved=600_000_000),
        }
    )

    report = await budgets(backend).status([TOKENS_A1, USD_WS, TOTAL_ACME])

    assert report == [
        CeilingStatus(TOKENS_A1, Decimal(7_000), Decimal(2_000), Decimal(1_000), DAY_END),
        CeilingStatus(
            USD_WS,
            Decimal("2.000000001"),
            Decimal("0.6"),
            Decimal(0),  # over the limit: nothing remains, never negative
            datetime(2026, 12, 1, tzinfo=UTC),
        ),
        CeilingStatus(TOTAL_ACME, Decimal(0), Decimal(0), Decimal(1_000_000), None),
    ]


async def test_run_expiry_keeps_going_after_failures_and_stops_on_cancel(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = CountingExpiry(failures=3)
    service = budgets(backend)

    with caplog.at_level(logging.WARNING, logger="dome.spend"):
        task = asyncio.create_task(service.run_expiry(interval=0.001))
        try:
            async with asyncio.timeout(5):
                await backend.reached.wait()
        finally:
            task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert task.cancelled()
    assert caplog.text.count("budget hold expiry failed") == 3
    assert backend.expiries[:6] == [NOW] * 6


class CountingExpiry(RecordingCounters):
    """Fails its first `failures` expiries, then succeeds; `reached` is set after 6."""

    def __init__(self, failures: int) -> None:
        super().__init__(fail=True)
        self.failures = failures
        self.expiries: list[datetime] = []
        self.reached = asyncio.Event()

    async def expire(self, now: datetime) -> int:
        self.expiries.append(now)
        if len(self.expiries) >= 6:
            self.reached.set()
        if len(self.expiries) <= self.failures:
            raise CounterUnavailableError("down")
        return 1


async def test_the_chooser_picks_redis_when_configured(tmp_path: Path) -> None:
    engine = create_async_engine(database_urls(f"sqlite:///{tmp_path / 'never-opened.db'}"))
    try:
        redis_backend = counter_backend(engine, "redis://127.0.0.1:1/0")
        assert isinstance(redis_backend, RedisCounters)
        await redis_backend.close()
        assert isinstance(counter_backend(engine, None), SqlCounters)
        assert isinstance(counter_backend(engine, ""), SqlCounters)
    finally:
        await engine.dispose()


async def test_end_to_end_over_a_real_backend(counters: CounterBackend) -> None:
    clock = Clock(datetime(2026, 11, 27, 12, tzinfo=UTC))
    service = Budgets(counters, clock=clock, hold_for=timedelta(minutes=11))
    daily = Ceiling("agent", "a1", "tokens", "day", Decimal(100))
    dollars = Ceiling("agent", "a1", "usd", "total", Decimal("0.000001"))  # 1000 nano-USD

    first = await service.reserve("c1", [daily, dollars], 60, Decimal("0.0000004"))
    assert first is not None
    with pytest.raises(BudgetExceededError) as caught:
        await service.reserve("c2", [daily, dollars], 60, Decimal("0.0000001"))
    assert caught.value.ceiling_id == daily.id
    assert caught.value.retry_after == 12 * 3600

    await service.settle(first, 30, Decimal("0.00000025"))
    await service.settle(first, 30, Decimal("0.00000025"))  # a second settle is a no-op
    assert await service.status([daily, dollars]) == [
        CeilingStatus(
            daily, Decimal(30), Decimal(0), Decimal(70), datetime(2026, 11, 28, tzinfo=UTC)
        ),
        CeilingStatus(dollars, Decimal("0.00000025"), Decimal(0), Decimal("0.00000075"), None),
    ]

    # Money is exact: 3 x 0.00000025 fills the total to the nano-USD.
    for call in ("c3", "c4", "c5"):
        hold = await service.reserve(call, [dollars], 1, Decimal("0.00000025"))
        assert hold is not None
    with pytest.raises(BudgetExceededError) as total:
        await service.reserve("c6", [dollars], 1, Decimal("0.000000001"))
    assert total.value.retry_after is None

    # Tomorrow's window starts empty; an unsettled hold expires and is charged in full.
    lost = await service.reserve("c7", [daily], 70, None)
    assert lost is not None
    clock.now = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)
    assert (await service.status([daily]))[0].used == 0
    assert await service.reserve("c8", [daily], 100, None) is not None
    assert await counters.expire(clock.now) == 4  # c3, c4, c5 and c7 were never settled
    assert (await counters.read([daily.counter_key(datetime(2026, 11, 27, tzinfo=UTC))])) == {
        daily.counter_key(datetime(2026, 11, 27, tzinfo=UTC)): CounterState(used=100)
    }
