"""`Budgets`: the service the agent plane calls around every call: reserve an upper bound
against each ceiling in scope before any provider sees the call, settle the actual usage
after it. Builds charges and errors; the counting itself is the backend's.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from dome.errors import BudgetExceededError, BudgetUnavailableError, UnpricedModelError
from dome.spend.ceilings import MAX_UNITS, Ceiling, from_units, to_units, window_end
from dome.spend.counters import Charge, CounterBackend, CounterUnavailableError
from dome.spend.sql_counters import SqlCounters

logger = logging.getLogger("dome.spend")

# How long a reservation holds before `expire` charges it in full: past the longest
# upstream call the broker lets run, so only a call whose settle was lost expires.
DEFAULT_HOLD = timedelta(minutes=11)
UNAVAILABLE_RETRY_AFTER = 5  # seconds an agent waits when the counters are unreachable


def now_utc() -> datetime:
    return datetime.now(UTC)


def counter_backend(
    engine: AsyncEngine, redis_url: str | None, *, redis_prefix: str = "dome:"
) -> CounterBackend:
    """The one chooser: Redis when a URL is configured (replicas share it), else the SQL
    store's own tables on `engine`."""
    if redis_url:
        # Imported only when used: the redis client (and the OpenTelemetry parts it
        # loads) costs a single-process broker 8 MiB it has no use for.
        from dome.spend.redis_counters import RedisCounters  # noqa: PLC0415

        return RedisCounters(redis_url, redis_prefix)
    return SqlCounters(engine)


@dataclass(frozen=True, slots=True)
class HeldCharge:
    """What one ceiling holds for a call: `units` on the counter `key`."""

    ceiling: Ceiling
    key: str
    units: int


@dataclass(frozen=True, slots=True)
class Hold:
    """A call's admitted reservation, to be settled once with its actual usage."""

    call_id: str
    charges: tuple[HeldCharge, ...]
    hold_until: datetime


@dataclass(frozen=True, slots=True)
class CeilingStatus:
    """A ceiling's current window, in its own units (tokens, or USD)."""

    ceiling: Ceiling
    used: Decimal
    reserved: Decimal
    remaining: Decimal  # never below zero
    resets_at: datetime | None  # None: a total ceiling never resets


class Budgets:
    """Reservations against ceilings over one `CounterBackend`.

    A call with no ceiling in scope costs nothing: the backend is not touched. The
    backend being unreachable fails closed (BudgetUnavailableError), for reserve and
    settle alike; a hold whose settle failed stays until `hold_for` passes, and then
    `run_expiry` charges it in full, so a lost settle over-charges, never under-charges.
    """

    def __init__(
        self,
        backend: CounterBackend,
        *,
        clock: Callable[[], datetime] = now_utc,
        hold_for: timedelta = DEFAULT_HOLD,
    ) -> None:
        self._backend = backend
        self._clock = clock
        self._hold_for = hold_for

    async def reserve(
        self,
        call_id: str,
        ceilings: Sequence[Ceiling],
        tokens: int,
        usd: Decimal | None,
        *,
        model: str | None = None,
    ) -> Hold | None:
        """Hold `tokens` (an upper bound) and `usd` (its price; None: the model has no
        price) against every ceiling, all or none. None when no ceiling applies.

        Raises:
            BudgetExceededError: a ceiling would be exceeded (nothing is held).
            UnpricedModelError: a USD ceiling applies and `usd` is None (`model`
                names the model in the message).
            BudgetUnavailableError: the counters cannot be reached.
            ValueError: a negative amount, or one ceiling given twice.
        """
        if tokens < 0 or (usd is not None and usd < 0):
            raise ValueError("a reservation is never negative")
        if not ceilings:
            return None
        now = self._clock()
        charges = [_held(ceiling, now, tokens, usd, model) for ceiling in ceilings]
        by_key = {held.key: held.ceiling for held in charges}
        for held in charges:
            if held.units > _limit_units(held.ceiling):
                # Over the limit even on an empty counter: no need to ask the store.
                raise _exceeded(held.ceiling, now)
        hold_until = now + self._hold_for
        try:
            refused = await self._backend.reserve(
                call_id, [self._charge(held, now) for held in charges], hold_until
            )
        except CounterUnavailableError as exc:
            raise _unavailable() from exc
        if refused is not None:
            raise _exceeded(by_key[refused], now)
        return Hold(call_id=call_id, charges=tuple(charges), hold_until=hold_until)

    async def settle(self, hold: Hold, tokens: int, usd: Decimal | None) -> None:
        """Charge the actual usage (`usd` None: each USD ceiling keeps what it held) and
        release the hold. A second settle of the same hold changes nothing.

        Raises BudgetUnavailableError when the counters cannot be reached; the hold then
        stays until it expires and is charged in full.
        """
        if tokens < 0 or (usd is not None and usd < 0):
            raise ValueError("actual usage is never negative")
        actual = {held.key: _actual_units(held, tokens, usd) for held in hold.charges}
        try:
            await self._backend.settle(hold.call_id, actual)
        except CounterUnavailableError as exc:
            raise _unavailable() from exc

    async def status(self, ceilings: Sequence[Ceiling]) -> list[CeilingStatus]:
        """Each ceiling's current window: used, reserved, remaining, when it resets.

        Raises BudgetUnavailableError when the counters cannot be reached.
        """
        if not ceilings:
            return []
        now = self._clock()
        keys = [ceiling.counter_key(now) for ceiling in ceilings]
        try:
            states = await self._backend.read(keys)
        except CounterUnavailableError as exc:
            raise _unavailable() from exc
        report = []
        for ceiling, key in zip(ceilings, keys, strict=True):
            state = states[key]
            used = from_units(ceiling.metric, state.used)
            reserved = from_units(ceiling.metric, state.reserved)
            report.append(
                CeilingStatus(
                    ceiling=ceiling,
                    used=used,
                    reserved=reserved,
                    remaining=max(Decimal(0), ceiling.limit - used - reserved),
                    resets_at=window_end(ceiling.period, now),
                )
            )
        return report

    async def run_expiry(self, interval: float = 30.0) -> None:
        """Charge expired holds every `interval` seconds until cancelled (a lifespan
        task). An unreachable store is logged and tried again at the next tick."""
        while True:
            try:
                charged = await self._backend.expire(self._clock())
            except CounterUnavailableError:
                logger.warning("budget hold expiry failed: counters unavailable", exc_info=True)
            else:
                if charged:
                    logger.info("charged %d expired budget holds in full", charged)
            await asyncio.sleep(interval)

    def _charge(self, held: HeldCharge, now: datetime) -> Charge:
        end = window_end(held.ceiling.period, now)
        # A window's counter must outlive every hold taken in it (settled or expired
        # up to `hold_for` after its end).
        expires_at = None if end is None else end + self._hold_for
        return Charge(
            key=held.key,
            limit=_limit_units(held.ceiling),
            amount=held.units,
            expires_at=expires_at,
        )


def _limit_units(ceiling: Ceiling) -> int:
    # Backends count exactly below MAX_UNITS (Lua doubles); a larger limit is no limit.
    return min(ceiling.limit_units, MAX_UNITS)


def _held(
    ceiling: Ceiling, now: datetime, tokens: int, usd: Decimal | None, model: str | None
) -> HeldCharge:
    if ceiling.metric == "tokens":
        units = to_units("tokens", Decimal(tokens))
    elif usd is None:
        raise _unpriced(ceiling, model)
    else:
        units = to_units("usd", usd)
    return HeldCharge(ceiling=ceiling, key=ceiling.counter_key(now), units=units)


def _actual_units(held: HeldCharge, tokens: int, usd: Decimal | None) -> int:
    if held.ceiling.metric == "tokens":
        units = to_units("tokens", Decimal(tokens))
    elif usd is None:
        units = held.units
    else:
        units = to_units("usd", usd)
    return min(units, MAX_UNITS)


def _exceeded(ceiling: Ceiling, now: datetime) -> BudgetExceededError:
    end = window_end(ceiling.period, now)
    subject = f"{ceiling.scope_kind} {ceiling.scope_name!r}"
    amount = (
        f"use {_plain(ceiling.limit)} tokens"
        if ceiling.metric == "tokens"
        else f"spend {_plain(ceiling.limit)} USD"
    )
    if end is None:
        message = f"budget exceeded: {subject} may {amount} in total; it does not reset"
        return BudgetExceededError(message, ceiling_id=ceiling.id, retry_after=None)
    resets = end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = f"budget exceeded: {subject} may {amount} per {ceiling.period}; resets at {resets}"
    retry_after = max(1, math.ceil((end - now).total_seconds()))
    return BudgetExceededError(message, ceiling_id=ceiling.id, retry_after=retry_after)


def _unpriced(ceiling: Ceiling, model: str | None) -> UnpricedModelError:
    which = "the requested model" if model is None else f"model {model!r}"
    return UnpricedModelError(
        f"{which} has no price, but the USD ceiling of {ceiling.scope_kind} "
        f"{ceiling.scope_name!r} applies to this call: the operator must set the model's "
        "price (--price-input, --price-output) before it can be used under a USD budget"
    )


def _unavailable() -> BudgetUnavailableError:
    return BudgetUnavailableError(
        "budget counters are unavailable; the call was not sent",
        retry_after=UNAVAILABLE_RETRY_AFTER,
    )


def _plain(amount: Decimal) -> str:
    """A limit as an operator wrote it, never in exponent form."""
    return format(amount, "f")
