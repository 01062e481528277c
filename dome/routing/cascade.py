"""Cascade steps: how many times an agent has already sent this request.

A cascade pool serves a first call from its cheapest step and a retry one step up.
In-process, bounded memory on an injected clock; no I/O. The fingerprint is a hash, so
request bodies are never kept.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from dome.errors import ConfigError

RetrySignal = Literal["retry-count", "idempotency-key", "fingerprint", "first"]


def fingerprint(body: bytes) -> str:
    """The request fingerprint: the SHA-256 of the body, hex."""
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class CascadeStep:
    """The step a call starts at, and which signal told it (for the audit)."""

    step: int
    by: RetrySignal


@dataclass(slots=True)
class _Sighting:
    count: int
    last_seen: float


_Key = tuple[str, str, str]  # (agent, "idempotency-key" | "fingerprint", value)


class RetryTracker:
    """Counts repeat sightings of a request per agent, within a sliding window.

    Signals, strongest first:

    1. `x-stainless-retry-count: N` with N > 0 (the OpenAI and Anthropic SDKs' own count
       of automatic retries): the step is N;
    2. an `Idempotency-Key` this agent already sent within the window: the step is how
       many times it was seen before;
    3. an identical body fingerprint from this agent within the window: likewise, which
       also catches retries an application makes through a new SDK call.

    Otherwise the call is a first sight: step 0. The window slides: every sighting
    renews it. At most `max_entries` sightings are kept; the least recently seen go first.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        window_seconds: float = 60.0,
        max_entries: int = 10_000,
    ) -> None:
        if not window_seconds > 0:
            raise ConfigError("cascade retry window_seconds must be positive")
        if max_entries < 1:
            raise ConfigError("cascade retry max_entries must be at least 1")
        self._clock = clock
        self._window = window_seconds
        self._max = max_entries
        # Ordered by last sighting (oldest first), since every touch moves a key to the end.
        self._seen: OrderedDict[_Key, _Sighting] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def step(
        self,
        agent: str,
        *,
        retry_count: int | None,
        idempotency_key: str | None,
        fingerprint: str,
    ) -> int:
        """The cascade step for this call (0 for a first sight); records the sighting."""
        return self.detect(
            agent, retry_count=retry_count, idempotency_key=idempotency_key, fingerprint=fingerprint
        ).step

    def detect(
        self,
        agent: str,
        *,
        retry_count: int | None,
        idempotency_key: str | None,
        fingerprint: str,
    ) -> CascadeStep:
        """Like `step`, also naming the signal that decided it."""
        now = self._clock()
        self._expire(now)
        by_key = 0
        if idempotency_key:
            by_key = self._touch((agent, "idempotency-key", idempotency_key), now)
        by_body = self._touch((agent, "fingerprint", fingerprint), now)
        if retry_count is not None and retry_count > 0:
            return CascadeStep(retry_count, "retry-count")
        if by_key > 0:
            return CascadeStep(by_key, "idempotency-key")
        if by_body > 0:
            return CascadeStep(by_body, "fingerprint")
        return CascadeStep(0, "first")

    def _touch(self, key: _Key, now: float) -> int:
        """Record a sighting of `key`; return how many times it was seen before."""
        sighting = self._seen.get(key)
        if sighting is None:
            self._seen[key] = _Sighting(count=1, last_seen=now)
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)
            return 0
        before = sighting.count
        sighting.count += 1
        sighting.last_seen = now
        self._seen.move_to_end(key)
        return before

    def _expire(self, now: float) -> None:
        # Amortized O(1): each entry is dropped at most once, from the old end.
        while self._seen:
            key, oldest = next(iter(self._seen.items()))
            if now - oldest.last_seen <= self._window:
                return
            del self._seen[key]
