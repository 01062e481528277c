"""Ceilings and their windows: what a budget limits, over which period, in which units.

Pure values and arithmetic (stdlib only), so the store's snapshot and the counter
backends share them. Counters hold integers: whole tokens, or nano-USD for money, so
atomic SQL updates and Redis scripts add exactly; money is Decimal everywhere else and
is converted at this one boundary (rounded up: a ceiling is never under-charged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Final, Literal, get_args

ScopeKind = Literal["agent", "workspace", "tenant"]
Metric = Literal["tokens", "usd"]
Period = Literal["hour", "day", "week", "month", "total"]

SCOPE_KINDS: Final[tuple[ScopeKind, ...]] = get_args(ScopeKind)
METRICS: Final[tuple[Metric, ...]] = get_args(Metric)
PERIODS: Final[tuple[Period, ...]] = get_args(Period)

NANO_USD: Final = Decimal(10**9)  # counter units per USD
# Redis scripts do arithmetic in Lua doubles, exact up to 2**53; a ceiling (and what a
# window may hold) stays below that: 9e15 tokens, or about 9 million USD.
MAX_UNITS: Final = 2**53 - 1


@dataclass(frozen=True, slots=True)
class Ceiling:
    """One budget: at most `limit` (whole tokens, or USD) per `period` for one scope."""

    scope_kind: ScopeKind
    scope_name: str
    metric: Metric
    period: Period
    limit: Decimal

    @property
    def id(self) -> str:
        """Stable across limit changes, so changing a limit keeps what was used."""
        return f"{self.scope_kind}:{self.scope_name}:{self.metric}:{self.period}"

    @property
    def limit_units(self) -> int:
        return to_units(self.metric, self.limit)

    def counter_key(self, now: datetime) -> str:
        """The counter of the window `now` falls in; a new window is a new key, so a
        roll-over is atomic by construction: nothing is ever reset."""
        start = window_start(self.period, now)
        return self.id if start is None else f"{self.id}:{int(start.timestamp())}"


def to_units(metric: Metric, amount: Decimal) -> int:
    """Tokens as they are; USD in nano-USD, rounded up."""
    if metric == "tokens":
        return int(amount.to_integral_value(rounding=ROUND_CEILING))
    return int((amount * NANO_USD).to_integral_value(rounding=ROUND_CEILING))


def from_units(metric: Metric, units: int) -> Decimal:
    return Decimal(units) if metric == "tokens" else Decimal(units) / NANO_USD


def window_start(period: Period, now: datetime) -> datetime | None:
    """The UTC start of the window holding `now`; None for `total` (one window, forever).

    Weeks start on Monday 00:00 UTC, months on the 1st.
    """
    now = now.astimezone(UTC)
    if period == "total":
        return None
    if period == "hour":
        return now.replace(minute=0, second=0, microsecond=0)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def window_end(period: Period, now: datetime) -> datetime | None:
    """When the window holding `now` resets; None for `total`."""
    start = window_start(period, now)
    if start is None:
        return None
    if period == "hour":
        return start + timedelta(hours=1)
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(weeks=1)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)
