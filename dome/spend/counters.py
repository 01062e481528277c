"""The counter backend contract: atomic reservations against ceilings, settled once.

Two backends implement it: SQL (SQLite or PostgreSQL, conditional updates inside one
transaction) and Redis (one Lua script per operation). Neither reads, decides in
Python, then writes: the check and the change are one atomic step in the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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


class CounterBackend(Protocol):
    async def reserve(
        self, call_id: str, charges: Sequence[Charge], hold_until: datetime
    ) -> str | None:
        """All `charges` at once, or none: returns None when admitted, else the key of a
        counter that would exceed its limit. The hold lasts until `hold_until`; an
        unsettled hold is then charged in full by `expire` (the provider may have billed).
        Raises CounterUnavailableError."""
        ...

    async def settle(self, call_id: str, actual: Mapping[str, int]) -> bool:
        """Release the call's holds and add `actual` units per key (keys it reserved;
        others are ignored). Idempotent: False when there was nothing left to settle.
        Raises CounterUnavailableError."""
        ...

    async def read(self, keys: Sequence[str]) -> dict[str, CounterState]:
        """The state of each key (zeros for one never used)."""
        ...

    async def expire(self, now: datetime) -> int:
        """Charge every hold whose `hold_until` passed in full; returns how many."""
        ...

    async def close(self) -> None: ...
