"""A finished call's usage and cost, per upstream attempt and in total: what the audit
records and what the budget reservation is settled to.

Every attempt that reached a provider counts, failed ones included. An attempt that
delivered an answer (or was cut off by the agent) without reporting usage is charged
what the broker counted: its input estimate and one token per event it relayed, never
zero, and marked estimated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dome.spend import pricing
from dome.spend.ceilings import to_units
from dome.store.snapshot import ModelEntry
from dome.wire.usage import ReportedUsage


@dataclass(frozen=True, slots=True)
class UsageFigures:
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    reasoning_tokens: int | None
    request_units: int | None
    estimated: bool
    raw: dict[str, Any] | None
    cost_usd: Decimal | None  # None: the model has no price
    counted_tokens: int | None = None  # a count_tokens answer, not consumption

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cost_nano_usd(self) -> int | None:
        return None if self.cost_usd is None else to_units("usd", self.cost_usd)


@dataclass(frozen=True, slots=True)
class CallFigures:
    attempts: tuple[UsageFigures | None, ...]  # one per attempt, None: nothing used
    total: UsageFigures | None  # None: no attempt used anything

    @property
    def tokens(self) -> int:
        return self.total.total_tokens if self.total else 0

    @property
    def cost_usd(self) -> Decimal | None:
        """The total cost; None when some usage could not be priced."""
        if self.total is None:
            return Decimal(0)
        return self.total.cost_usd


@dataclass(frozen=True, slots=True)
class AttemptUsage:
    """What one attempt reported, and whether it was delivered or cut off unreported."""

    entry: ModelEntry
    usage: ReportedUsage | None
    charged_unreported: bool  # delivered (or cut off) without a usage report


def call_figures(
    attempts: Sequence[AttemptUsage], *, input_estimate: int, delivered_events: int
) -> CallFigures:
    per_attempt = tuple(
        _figures(a, input_estimate=input_estimate, delivered_events=delivered_events)
        for a in attempts
    )
    used = [figures for figures in per_attempt if figures is not None]
    return CallFigures(per_attempt, _sum(used) if used else None)


def _figures(
    attempt: AttemptUsage, *, input_estimate: int, delivered_events: int
) -> UsageFigures | None:
    usage = attempt.usage
    estimated = False
    if usage is None or usage.input_tokens is None or usage.output_tokens is None:
        if not attempt.charged_unreported:
            return None
        # Never zero: what arrived of the usage, else the estimate, and one token per
        # relayed event for the output.
        reported_input = usage.input_tokens if usage else None
        reported_output = usage.output_tokens if usage else None
        usage = ReportedUsage(
            raw=usage.raw if usage else {},
            input_tokens=reported_input if reported_input is not None else input_estimate,
            output_tokens=max(reported_output or 0, delivered_events),
            cache_read_tokens=usage.cache_read_tokens if usage else None,
            cache_write_tokens=usage.cache_write_tokens if usage else None,
            reasoning_tokens=usage.reasoning_tokens if usage else None,
        )
        estimated = True
    entry = attempt.entry
    sheet = pricing.price_sheet(entry.provider, entry.model, entry.input_price, entry.output_price)
    return UsageFigures(
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        request_units=usage.request_units,
        estimated=estimated,
        raw=usage.raw or None,
        cost_usd=None if sheet is None else pricing.cost(sheet, usage),
        counted_tokens=usage.counted_input_tokens,
    )


def _sum(used: Sequence[UsageFigures]) -> UsageFigures:
    if len(used) == 1:
        return used[0]
    cost: Decimal | None = Decimal(0)
    for figures in used:
        cost = None if cost is None or figures.cost_usd is None else cost + figures.cost_usd
    return UsageFigures(
        input_tokens=sum(f.input_tokens for f in used),
        output_tokens=sum(f.output_tokens for f in used),
        cache_read_tokens=_sum_known(f.cache_read_tokens for f in used),
        cache_write_tokens=_sum_known(f.cache_write_tokens for f in used),
        reasoning_tokens=_sum_known(f.reasoning_tokens for f in used),
        request_units=_sum_known(f.request_units for f in used),
        estimated=any(f.estimated for f in used),
        raw={"attempts": [f.raw for f in used]},
        cost_usd=cost,
        counted_tokens=_sum_known(f.counted_tokens for f in used),
    )


def _sum_known(values: Iterable[int | None]) -> int | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None
