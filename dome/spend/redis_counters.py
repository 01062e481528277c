"""`RedisCounters`: the counter backend on Redis, shared by broker replicas. Each operation
is one Lua script (redis_scripts/*.lua), which Redis runs atomically; this module only
lays out keys and arguments and maps connection failures.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib.resources import files
from typing import Final

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dome.spend.counters import (
    COUNTER_GRACE,
    Charge,
    CounterState,
    CounterUnavailableError,
    check_actual,
    check_charges,
)

# Calls charged per run of the expiry script, so one run never blocks Redis for long.
EXPIRE_BATCH: Final = 100
DEFAULT_TIMEOUT: Final = 1.0  # seconds: connect, each command, and waiting for the pool
DEFAULT_MAX_CONNECTIONS: Final = 64
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@cache
def _script(name: str) -> str:
    return (files("dome.spend") / "redis_scripts" / f"{name}.lua").read_text("utf-8")


class RedisCounters:
    """The `CounterBackend` on Redis (redis.asyncio), keys under `prefix`:

    - `{prefix}counter:{key}`: a window's counter, a hash {used, reserved}, expiring
      COUNTER_GRACE after its Charge.expires_at;
    - `{prefix}hold:{call_id}`: a call's open holds, a hash {counter key: units};
    - `{prefix}holds`: every open call by hold_until (ms), a sorted set that `expire` reads.

    Scripts build counter names from the prefix and the hold hash, so this layout is for
    one Redis server (or a primary with replicas), not a Redis Cluster. A command gets
    `timeout` seconds (and one retry on a fresh connection: every script is idempotent
    per call id); a refused connection or a timeout raises CounterUnavailableError.
    """

    def __init__(
        self,
        url: str,
        prefix: str = "dome:",
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 1,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        grace: timedelta = COUNTER_GRACE,
    ) -> None:
        # A blocking pool: a burst of calls queues for a connection instead of failing
        # with "too many connections" (the plain pool's answer), which would read as an
        # outage and refuse calls.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), retries),
            decode_responses=True,
        )
        self._redis = Redis.from_pool(pool)
        self._counter_prefix = f"{prefix}counter:"
        self._hold_prefix = f"{prefix}hold:"
        self._holds = f"{prefix}holds"
        self._grace = grace
        self._reserve = self._redis.register_script(_script("reserve"))
        self._settle = self._redis.register_script(_script("settle"))
        self._expire = self._redis.register_script(_script("expire"))

    async def reserve(
        self, call_id: str, charges: Sequence[Charge], hold_until: datetime
    ) -> str | None:
        check_charges(charges)
        keys = [self._holds, self._hold_prefix + call_id]
        args: list[str | int] = [call_id, _epoch_ms(hold_until)]
        for charge in sorted(charges, key=lambda charge: charge.key):
            keys.append(self._counter_prefix + charge.key)
            args += [charge.key, charge.limit, charge.amount, self._expire_at(charge)]
        with _unavailable():
            refused = await self._reserve(keys=keys, args=args)
        return None if refused is None else str(refused)

    async def settle(self, call_id: str, actual: Mapping[str, int]) -> bool:
        check_actual(actual)
        keys = [self._holds, self._hold_prefix + call_id]
        args: list[str | int] = [call_id, self._counter_prefix]
        for key, units in sorted(actual.items()):
            args += [key, units]
        with _unavailable():
            settled = await self._settle(keys=keys, args=args)
        return bool(settled)

    async def read(self, keys: Sequence[str]) -> dict[str, CounterState]:
        unique = sorted(set(keys))
        with _unavailable():
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in unique:
                    pipe.hmget(self._counter_prefix + key, ["used", "reserved"])
                answers = await pipe.execute()
        states = dict.fromkeys(keys, CounterState())
        for key, (used, reserved) in zip(unique, answers, strict=True):
            states[key] = CounterState(used=int(used or 0), reserved=int(reserved or 0))
        return states

    async def expire(self, now: datetime) -> int:
        """Runs the expiry script in batches until no due hold is left. Counters need no
        sweep here: Redis drops them at their own expiry time."""
        args: list[str | int] = [
            _epoch_ms(now),
            EXPIRE_BATCH,
            self._hold_prefix,
            self._counter_prefix,
        ]
        charged = 0
        while True:
            with _unavailable():
                batch = int(await self._expire(keys=[self._holds], args=args))
            charged += batch
            if batch < EXPIRE_BATCH:
                return charged

    async def close(self) -> None:
        await self._redis.aclose()

    def _expire_at(self, charge: Charge) -> int:
        if charge.expires_at is None:
            return -1
        return math.ceil((charge.expires_at + self._grace).timestamp())


def _epoch_ms(moment: datetime) -> int:
    """Whole milliseconds since the epoch, in integers (a float timestamp may be 1 ms off)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


@contextmanager
def _unavailable() -> Iterator[None]:
    """Redis not reachable, not answering in time, or a replica that took over read-only;
    other Redis errors (a script bug) pass through."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, ReadOnlyError) as exc:
        raise CounterUnavailableError("the Redis budget counters are unavailable") from exc
