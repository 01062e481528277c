"""The counter backend contract: atomic reservations against ceilings, settled once.

Two backends implement it: SQL (SQLite or PostgreSQL, conditional updates inside one
transaction) and Redis (one Lua script per operation). Neither reads, decides in
Python, then writes: the check and the change are one atomic step in the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from dome.spend.ceilings import MAX_UNITS

# How long a window's counter outlives its Charge.expires_at before a backend drops it:
# late settlements and `status` of a window just past still find it.
COUNTER_GRACE: Final = timedelta(hours=1)


class CounterUnavailableError(Exception):
    """The counter store could not be reached or did not answer in time.

    Callers fail closed on it: no reservation, no call.
    """


@dataclass(frozen=True, slots=True)
class Charge:
    """Reserve `amount` units on the counter `key`, which must stay within `limit`."""

    key: str  # a window's counter (Ceiling.counter_key)
    limit: int  # units: whole tokens, or nano-USD
    amount: int
    expires_at: datetime | None  # when the window's counter may be forgotten; None: never


@dataclass(frozen=True, slots=True)
class CounterState:
    used: int = 0  # settled units
    reserved: int = 0  # units held by calls in flight


def check_charges(charges: Sequence[Charge]) -> None:
    """Reject what no backend can count exactly: a key twice, a negative amount, a
    limit outside 0..MAX_UNITS. Raises ValueError (a bug of the caller, not a refusal)."""
    keys = {charge.key for charge in charges}
    if len(keys) != len(charges):
        raise ValueError("a counter key appears twice in one reservation")
    for charge in charges:
        if not 0 <= charge.limit <= MAX_UNITS:
            raise ValueError(f"limit of {charge.key!r} is outside 0..{MAX_UNITS}")
        if not 0 <= charge.amount <= MAX_UNITS:
            raise ValueError(f"amount for {charge.key!r} is outside 0..{MAX_UNITS}")


def check_actual(actual: Mapping[str, int]) -> None:
    """Settled amounts are whole, non-negative units below MAX_UNITS."""
    for key, units in actual.items():
        if not 0 <= units <= MAX_UNITS:
            raise ValueError(f"actual units for {key!r} are outside 0..{MAX_UNITS}")


class CounterBackend(Protocol):
    async def reserve(
        self, call_id: str, charges: Sequence[Charge], hold_until: datetime
    ) -> str | None:
        """All `charges` at once, or none: returns None when admitted, else the key of a
        counter that would exceed its limit. The hold lasts until `hold_until`; an
        unsettled hold is then charged in full by `expire` (the provider may have billed).
        A `call_id` that already holds a reservation is admitted unchanged (returns
        None), so a reserve retried after a lost answer never counts twice.
        Raises CounterUnavailableError."""
        ...

    async def settle(self, call_id: str, actual: Mapping[str, int]) -> bool:
        """Release the call's holds and add `actual` units per key (keys it reserved;
        others are ignored). Idempotent: False when there was nothing left to settle.
        Raises CounterUnavailableError."""
        ...

    async def read(self, keys: Sequence[str]) -> dict[str, CounterState]:
        """The state of each key (zeros for one never used).
        Raises CounterUnavailableError."""
        ...

    async def expire(self, now: datetime) -> int:
        """Charge every hold whose `hold_until` passed in full; returns how many calls'
        holds it charged. Also drops counters more than COUNTER_GRACE past their
        `expires_at`. Raises CounterUnavailableError."""
        ...

    async def close(self) -> None: ...
