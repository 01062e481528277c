"""Ceilings: windows and their roll-over, counter keys, and units (exact, rounded up)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dome.spend.ceilings import (
    MAX_UNITS,
    NANO_USD,
    PERIODS,
    Ceiling,
    Period,
    from_units,
    to_units,
    window_end,
    window_start,
)

TICK = timedelta(microseconds=1)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        ("hour", utc(2026, 11, 27, 13, 45, 10), utc(2026, 11, 27, 13), utc(2026, 11, 27, 14)),
        ("hour", utc(2026, 11, 27, 23, 59, 59), utc(2026, 11, 27, 23), utc(2026, 11, 28)),
        ("hour", utc(2026, 12, 31, 23, 30), utc(2026, 12, 31, 23), utc(2027, 1, 1)),
        ("day", utc(2026, 11, 27, 13, 45), utc(2026, 11, 27), utc(2026, 11, 28)),
        ("day", utc(2026, 2, 28, 12), utc(2026, 2, 28), utc(2026, 3, 1)),
        ("day", utc(2028, 2, 28, 12), utc(2028, 2, 28), utc(2028, 2, 29)),  # leap year
        ("day", utc(2026, 12, 31, 1), utc(2026, 12, 31), utc(2027, 1, 1)),
        # 2026-11-27 is a Friday; weeks start on Monday.
        ("week", utc(2026, 11, 27, 9), utc(2026, 11, 23), utc(2026, 11, 30)),
        ("week", utc(2026, 11, 23), utc(2026, 11, 23), utc(2026, 11, 30)),
        ("week", utc(2026, 11, 29, 23, 59), utc(2026, 11, 23), utc(2026, 11, 30)),
        # A week across New Year: Thursday 2026-12-31 is in the week of Monday 12-28.
        ("week", utc(2026, 12, 31, 12), utc(2026, 12, 28), utc(2027, 1, 4)),
        ("week", utc(2027, 1, 3, 23), utc(2026, 12, 28), utc(2027, 1, 4)),
        ("month", utc(2026, 11, 27, 9), utc(2026, 11, 1), utc(2026, 12, 1)),
        ("month", utc(2026, 12, 15), utc(2026, 12, 1), utc(2027, 1, 1)),  # December
        ("month", utc(2027, 1, 1), utc(2027, 1, 1), utc(2027, 2, 1)),
        ("month", utc(2028, 2, 29, 23), utc(2028, 2, 1), utc(2028, 3, 1)),
    ],
)
def test_window_of(period: Period, now: datetime, start: datetime, end: datetime) -> None:
    assert window_start(period, now) == start
    assert window_end(period, now) == end


@pytest.mark.parametrize(
    ("period", "expected_end"),
    [
        ("hour", utc(2027, 1, 1)),
        ("day", utc(2027, 1, 1)),
        ("week", utc(2027, 1, 4)),
        ("month", utc(2027, 1, 1)),
    ],
)
def test_a_window_rolls_over_at_its_end(period: Period, expected_end: datetime) -> None:
    now = utc(2026, 12, 31, 23, 59, 59, 999999)
    end = window_end(period, now)
    assert end == expected_end
    assert window_start(period, end) == end  # the end is the next window's start
    assert window_end(period, end - TICK) == end  # one microsecond before is this window
    assert window_start(period, end - TICK) == window_start(period, now)


def test_total_has_one_window_forever() -> None:
    assert window_start("total", utc(2026, 11, 27)) is None
    assert window_end("total", utc(2026, 11, 27)) is None


def test_times_in_other_zones_are_windowed_in_utc() -> None:
    # 01:30 in UTC+2 is 23:30 UTC the day before.
    local = datetime(2026, 12, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert window_start("day", local) == utc(2026, 11, 30)
    assert window_start("month", local) == utc(2026, 11, 1)
    assert window_end("month", local) == utc(2026, 12, 1)
    assert window_start("hour", local) == utc(2026, 11, 30, 23)


@given(
    now=st.datetimes(
        # Hypothesis bounds are naive; the strategy attaches UTC.
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001
        max_value=datetime(2200, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    period=st.sampled_from([p for p in PERIODS if p != "total"]),
)
def test_every_moment_lies_in_exactly_one_window(now: datetime, period: Period) -> None:
    start = window_start(period, now)
    end = window_end(period, now)
    assert start is not None
    assert end is not None
    assert start <= now < end
    assert window_start(period, start) == start
    assert window_start(period, end - TICK) == start
    assert window_start(period, end) == end


CEILING = Ceiling("agent", "a1", "tokens", "day", Decimal(10_000))


def test_counter_keys_name_the_ceiling_and_its_window() -> None:
    morning = utc(2026, 11, 27, 0, 0)
    evening = utc(2026, 11, 27, 23, 59, 59)
    assert CEILING.id == "agent:a1:tokens:day"
    assert CEILING.counter_key(morning) == CEILING.counter_key(evening)
    assert CEILING.counter_key(morning) == f"agent:a1:tokens:day:{int(morning.timestamp())}"
    assert CEILING.counter_key(evening) != CEILING.counter_key(utc(2026, 11, 28))
    assert CEILING.counter_key(utc(2026, 11, 26, 23, 59)) != CEILING.counter_key(morning)


def test_a_new_limit_keeps_the_counter() -> None:
    raised = Ceiling("agent", "a1", "tokens", "day", Decimal(20_000))
    assert raised.id == CEILING.id
    assert raised.counter_key(utc(2026, 11, 27)) == CEILING.counter_key(utc(2026, 11, 27))


def test_a_total_ceiling_has_one_counter() -> None:
    total = Ceiling("workspace", "ws", "usd", "total", Decimal(5))
    assert total.counter_key(utc(2026, 1, 1)) == total.counter_key(utc(2030, 6, 1)) == total.id


def test_different_scopes_metrics_and_periods_have_different_keys() -> None:
    now = utc(2026, 11, 27, 12)
    ceilings = [
        Ceiling(kind, "x", metric, period, Decimal(1))
        for kind in ("agent", "workspace", "tenant")
        for metric in ("tokens", "usd")
        for period in PERIODS
    ]
    assert len({ceiling.counter_key(now) for ceiling in ceilings}) == len(ceilings)


@pytest.mark.parametrize(
    ("metric", "amount", "units"),
    [
        ("tokens", Decimal(10), 10),
        ("tokens", Decimal("10.1"), 11),  # rounded up: never under-charged
        ("tokens", Decimal("10.000001"), 11),
        ("tokens", Decimal(0), 0),
        ("usd", Decimal(1), 1_000_000_000),
        ("usd", Decimal("0.000000001"), 1),
        ("usd", Decimal("0.0000000001"), 1),  # a tenth of a nano-USD is a whole one
        ("usd", Decimal("0.0000000010000001"), 2),
        ("usd", Decimal("12.345678901"), 12_345_678_901),
        ("usd", Decimal("1E+3"), 1_000_000_000_000),
        ("usd", Decimal(0), 0),
    ],
)
def test_to_units_rounds_up(metric: str, amount: Decimal, units: int) -> None:
    assert to_units(metric, amount) == units  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "amount",
    [Decimal("123.456789012"), Decimal("0.000000001"), Decimal(9_000_000), Decimal("0.1")],
)
def test_usd_round_trips_exactly(amount: Decimal) -> None:
    units = to_units("usd", amount)
    assert from_units("usd", units) == amount
    assert isinstance(from_units("usd", units), Decimal)


def test_decimal_money_has_no_float_error() -> None:
    # 0.1 + 0.2 is not 0.3 in binary floating point; in nano-USD units it is.
    assert to_units("usd", Decimal("0.1")) + to_units("usd", Decimal("0.2")) == to_units(
        "usd", Decimal("0.3")
    )
    assert from_units("usd", 300_000_000) == Decimal("0.3")


def test_limit_units() -> None:
    assert CEILING.limit_units == 10_000
    usd = Ceiling("tenant", "acme", "usd", "month", Decimal("2.50"))
    assert usd.limit_units == 2_500_000_000
    # The documented bound: about 9 million USD, or 9e15 tokens, below 2**53.
    assert to_units("usd", Decimal(9_000_000)) < MAX_UNITS
    assert Decimal(10**9) == NANO_USD
