"""The CounterBackend contract on every backend: SQLite, PostgreSQL and Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dome.spend.ceilings import MAX_UNITS, Ceiling, window_end
from dome.spend.counters import Charge, CounterBackend, CounterState

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=10)  # holds taken in these tests last until then
TOMORROW = NOW + timedelta(days=1)


def charge(key: str, limit: int, amount: int, expires_at: datetime | None = TOMORROW) -> Charge:
    return Charge(key=key, limit=limit, amount=amount, expires_at=expires_at)


async def state(counters: CounterBackend, key: str) -> CounterState:
    return (await counters.read([key]))[key]


async def test_a_reservation_within_the_limit_is_held(counters: CounterBackend) -> None:
    assert await counters.reserve("c1", [charge("k", 100, 60)], LATER) is None
    assert await state(counters, "k") == CounterState(used=0, reserved=60)

    assert await counters.reserve("c2", [charge("k", 100, 40)], LATER) is None  # exactly full
    assert await state(counters, "k") == CounterState(used=0, reserved=100)


async def test_a_reservation_beyond_the_limit_is_refused_with_its_key(
    counters: CounterBackend,
) -> None:
    assert await counters.reserve("c1", [charge("k", 100, 60)], LATER) is None

    assert await counters.reserve("c2", [charge("k", 100, 41)], LATER) == "k"
    assert await counters.reserve("c3", [charge("other", 5, 6)], LATER) == "other"

    assert await state(counters, "k") == CounterState(used=0, reserved=60)
    assert await state(counters, "other") == CounterState()
    assert not await counters.settle("c2", {"k": 1})  # a refused call holds nothing


async def test_used_units_count_against_the_limit(counters: CounterBackend) -> None:
    await counters.reserve("c1", [charge("k", 100, 50)], LATER)
    await counters.settle("c1", {"k": 90})  # more than reserved: the actual is charged

    assert await state(counters, "k") == CounterState(used=90, reserved=0)
    assert await counters.reserve("c2", [charge("k", 100, 11)], LATER) == "k"
    assert await counters.reserve("c3", [charge("k", 100, 10)], LATER) is None


@pytest.mark.parametrize("full", ["a-agent", "z-tenant"])  # before and after in key order
async def test_all_or_nothing_across_charges(counters: CounterBackend, full: str) -> None:
    await counters.reserve("c0", [charge(full, 10, 10)], LATER)
    others = [key for key in ("a-agent", "m-workspace", "z-tenant") if key != full]

    refused = await counters.reserve(
        "c1", [charge(others[0], 100, 5), charge(full, 10, 1), charge(others[1], 100, 5)], LATER
    )

    assert refused == full
    for key in others:
        assert await state(counters, key) == CounterState()  # nothing left held
    assert await state(counters, full) == CounterState(used=0, reserved=10)
    assert not await counters.settle("c1", {})


async def test_settle_charges_the_actual_and_releases_the_hold(counters: CounterBackend) -> None:
    await counters.reserve("c1", [charge("tokens", 1000, 300), charge("usd", 10**9, 5000)], LATER)
    await counters.reserve("c2", [charge("tokens", 1000, 200)], LATER)

    assert await counters.settle("c1", {"tokens": 120, "usd": 4321, "not-held": 7})

    assert await counters.read(["tokens", "usd", "not-held"]) == {
        "tokens": CounterState(used=120, reserved=200),  # c2 still holds its 200
        "usd": CounterState(used=4321, reserved=0),
        "not-held": CounterState(),  # keys the call did not reserve are ignored
    }


async def test_settle_without_an_actual_for_a_key_charges_nothing_there(
    counters: CounterBackend,
) -> None:
    await counters.reserve("c1", [charge("a", 100, 30), charge("b", 100, 30)], LATER)

    assert await counters.settle("c1", {"a": 10})

    assert await state(counters, "a") == CounterState(used=10, reserved=0)
    assert await state(counters, "b") == CounterState(used=0, reserved=0)


async def test_settling_twice_is_a_no_op(counters: CounterBackend) -> None:
    await counters.reserve("c1", [charge("k", 100, 50)], LATER)

    assert await counters.settle("c1", {"k": 20}) is True
    assert await counters.settle("c1", {"k": 20}) is False
    assert await counters.settle("c1", {"k": 99}) is False

    assert await state(counters, "k") == CounterState(used=20, reserved=0)


async def test_settling_an_unknown_call_is_a_no_op(counters: CounterBackend) -> None:
    assert await counters.settle("never-reserved", {"k": 5}) is False
    assert await state(counters, "k") == CounterState()


async def test_a_repeated_reserve_of_one_call_counts_once(counters: CounterBackend) -> None:
    assert await counters.reserve("c1", [charge("k", 100, 60)], LATER) is None
    # A retry after a lost answer: admitted again, but held once (60 + 60 would not fit).
    assert await counters.reserve("c1", [charge("k", 100, 60)], LATER) is None

    assert await state(counters, "k") == CounterState(used=0, reserved=60)
    assert await counters.settle("c1", {"k": 60})
    assert await state(counters, "k") == CounterState(used=60, reserved=0)


async def test_expire_charges_due_holds_in_full(counters: CounterBackend) -> None:
    await counters.reserve("due-1", [charge("k", 1000, 100), charge("j", 1000, 7)], NOW)
    await counters.reserve("due-2", [charge("k", 1000, 50)], NOW - timedelta(minutes=1))
    await counters.reserve("running", [charge("k", 1000, 30)], NOW + timedelta(seconds=1))

    assert await counters.expire(NOW) == 2

    assert await state(counters, "k") == CounterState(used=150, reserved=30)
    assert await state(counters, "j") == CounterState(used=7, reserved=0)
    assert await counters.settle("due-1", {"k": 1}) is False  # expired: already charged
    assert await counters.expire(NOW) == 0
    assert await counters.settle("running", {"k": 3}) is True
    assert await counters.expire(NOW + timedelta(hours=1)) == 0
    assert await state(counters, "k") == CounterState(used=153, reserved=0)


async def test_expire_with_nothing_held_charges_nothing(counters: CounterBackend) -> None:
    assert await counters.expire(NOW) == 0


async def test_windows_are_independent(counters: CounterBackend) -> None:
    ceiling = Ceiling("agent", "a1", "tokens", "day", Decimal(100))
    today = ceiling.counter_key(NOW)
    tomorrow = ceiling.counter_key(TOMORROW)
    expires = window_end("day", NOW)

    assert await counters.reserve("c1", [charge(today, 100, 100, expires)], LATER) is None
    assert await counters.reserve("c2", [charge(today, 100, 1, expires)], LATER) == today
    assert await counters.reserve("c3", [charge(tomorrow, 100, 100, None)], LATER) is None

    assert await counters.read([today, tomorrow]) == {
        today: CounterState(used=0, reserved=100),
        tomorrow: CounterState(used=0, reserved=100),
    }


async def test_a_lowered_limit_refuses_even_an_empty_charge(counters: CounterBackend) -> None:
    await counters.reserve("c1", [charge("k", 100, 80)], LATER)

    assert await counters.reserve("c2", [charge("k", 50, 0)], LATER) == "k"
    assert await counters.reserve("c3", [charge("k", 80, 0)], LATER) is None


async def test_amounts_near_the_bound_are_exact(counters: CounterBackend) -> None:
    big = MAX_UNITS - 1
    assert await counters.reserve("c1", [charge("k", MAX_UNITS, big)], LATER) is None
    assert await counters.reserve("c2", [charge("k", MAX_UNITS, 2)], LATER) == "k"
    assert await counters.reserve("c3", [charge("k", MAX_UNITS, 1)], LATER) is None

    assert await state(counters, "k") == CounterState(used=0, reserved=MAX_UNITS)
    assert await counters.settle("c1", {"k": big - 12_345})
    assert await state(counters, "k") == CounterState(used=big - 12_345, reserved=1)


async def test_read_of_unknown_keys_is_zero(counters: CounterBackend) -> None:
    assert await counters.read(["nope", "nada"]) == {
        "nope": CounterState(),
        "nada": CounterState(),
    }
    assert await counters.read([]) == {}


@pytest.mark.parametrize(
    "charges",
    [
        [charge("k", 10, 1), charge("k", 10, 1)],
        [charge("k", 10, -1)],
        [charge("k", -1, 0)],
        [charge("k", MAX_UNITS + 1, 1)],
    ],
)
async def test_malformed_charges_are_a_value_error(
    counters: CounterBackend, charges: list[Charge]
) -> None:
    with pytest.raises(ValueError):
        await counters.reserve("c1", charges, LATER)
    assert await state(counters, "k") == CounterState()


async def test_a_negative_actual_is_a_value_error(counters: CounterBackend) -> None:
    await counters.reserve("c1", [charge("k", 10, 5)], LATER)
    with pytest.raises(ValueError):
        await counters.settle("c1", {"k": -1})
    assert await state(counters, "k") == CounterState(used=0, reserved=5)
