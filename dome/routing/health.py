"""Member health: Retry-After pauses and one circuit breaker per member model.

In-process state on an injected clock; no I/O and no locks (one asyncio loop owns it).
Every operation is O(1) in the number of members.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dome.errors import ConfigError
from dome.routing.failover import AttemptOutcome, is_member_failure


@dataclass(slots=True)
class _Member:
    failures: int = 0  # consecutive, since the last success
    open_until: float | None = None  # the circuit is open (or half-open once passed)
    probe_since: float | None = None  # when the half-open circuit admitted its probe
    retry_until: float | None = None  # the member's own Retry-After


class MemberHealth:
    """Which members may take a call now, learned from the outcomes of past attempts.

    The breaker: `failure_threshold` consecutive failures open the circuit for
    `cooldown_seconds`; after that it is half-open and `available` admits exactly one
    probe call; the probe's success closes it, its failure opens it for another cooldown.
    A probe that never reports back (the caller tried another member first and stopped)
    would wedge the member, so a claim older than one cooldown lets a new probe in.

    A failure that came with a Retry-After pauses the member until then instead of
    counting towards the breaker: the member told us when to come back.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        failure_threshold: int = 5,
        cooldown_seconds: float = 30.0,
    ) -> None:
        if failure_threshold < 1:
            raise ConfigError("circuit breaker failure_threshold must be at least 1")
        if not cooldown_seconds > 0:
            raise ConfigError("circuit breaker cooldown_seconds must be positive")
        self._clock = clock
        self._threshold = failure_threshold
        self._cooldown = cooldown_seconds
        self._members: dict[str, _Member] = {}

    def available(self, model: str) -> bool:
        """Whether a call may try `model` now.

        Not a pure query: on a half-open circuit a True claims the single probe slot,
        so call it only right before the attempt. `state` looks without claiming.
        """
        member = self._members.get(model)
        if member is None:
            return True
        now = self._clock()
        if member.retry_until is not None and now < member.retry_until:
            return False
        if member.open_until is None:
            return True
        if now < member.open_until:
            return False
        if member.probe_since is not None and now - member.probe_since < self._cooldown:
            return False  # a probe is out; wait for it
        member.probe_since = now
        return True

    def record(self, model: str, outcome: AttemptOutcome, retry_after: float | None) -> None:
        """Learn from one attempt on `model`: its outcome and any Retry-After (seconds)."""
        member = self._members.setdefault(model, _Member())
        now = self._clock()
        if retry_after is not None and retry_after > 0:
            member.retry_until = now + retry_after
        if not is_member_failure(outcome):
            member.failures = 0
            member.open_until = None
            member.probe_since = None
            return
        if member.open_until is not None:
            if now >= member.open_until:
                # The probe (or a straggler after the cooldown) failed: open again.
                member.open_until = now + self._cooldown
                member.probe_since = None
            return  # still open: a late answer from before it opened changes nothing
        if retry_after is not None and retry_after > 0:
            return  # paused by its own Retry-After, not counted as broken
        member.failures += 1
        if member.failures >= self._threshold:
            member.open_until = now + self._cooldown
            member.probe_since = None

    def state(self, model: str) -> str:
        """The member's health in words, for `dome route explain`; claims nothing.

        One of "closed", "open until <t> (<n>s from now)", "half-open",
        "half-open (probe in flight)", "retry-after until <t> (<n>s from now)", where
        <t> is the clock's reading. An open circuit is reported before a pause.
        """
        member = self._members.get(model)
        if member is None:
            return "closed"
        now = self._clock()
        if member.open_until is not None and now < member.open_until:
            return f"open until {_until(member.open_until, now)}"
        if member.retry_until is not None and now < member.retry_until:
            return f"retry-after until {_until(member.retry_until, now)}"
        if member.open_until is not None:
            if member.probe_since is not None and now - member.probe_since < self._cooldown:
                return "half-open (probe in flight)"
            return "half-open"
        return "closed"

    def forget(self, model: str) -> None:
        """Drop what is known about `model` (it left the config, or an operator reset it)."""
        self._members.pop(model, None)


def _until(deadline: float, now: float) -> str:
    return f"{deadline:.3f} ({deadline - now:.1f}s from now)"
