"""Pool strategies: the order in which a call tries a pool's members.

Pure: randomness comes in as a seeded `random.Random`, prices from the config snapshot.
Filtering (policy, region pin, health) happens after ordering, in the caller.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from dome.routing.pools import Pool, PoolMember, Strategy

_PER_MILLION: Final = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """A model's configured list price in USD per million tokens."""

    input_per_mtok: Decimal
    output_per_mtok: Decimal


@dataclass(frozen=True, slots=True)
class TokenEstimate:
    """What the call is expected to use: the input estimate and the output it may produce."""

    input_tokens: int
    output_tokens: int


def expected_cost(price: ModelPrice, estimate: TokenEstimate) -> Decimal:
    """The call's expected USD cost on a model with `price` (exact, no rounding)."""
    return (
        estimate.input_tokens * price.input_per_mtok
        + estimate.output_tokens * price.output_per_mtok
    ) / _PER_MILLION


@dataclass(frozen=True, slots=True)
class _Inputs:
    rng: random.Random
    prices: Mapping[str, ModelPrice | None]
    estimate: TokenEstimate
    cascade_step: int


def _by_priority(members: tuple[PoolMember, ...]) -> list[PoolMember]:
    # `sorted` is stable, so equal priorities keep the order the operator added them in.
    return sorted(members, key=lambda member: member.priority)


def _priority(pool: Pool, _inputs: _Inputs) -> list[PoolMember]:
    return _by_priority(pool.members)


def _weighted(pool: Pool, inputs: _Inputs) -> list[PoolMember]:
    # Efraimidis & Spirakis (2006), "Weighted random sampling with a reservoir": sorting
    # by u ** (1 / w) descending draws a permutation where each next member is picked
    # with probability proportional to its weight among those left. Every member stays
    # in the order, so failover still reaches all of them. One draw per member, in the
    # members' own order, keeps the result a function of the rng's state.
    keys = [inputs.rng.random() ** (1.0 / member.weight) for member in pool.members]
    ranked = sorted(
        range(len(pool.members)),
        key=lambda index: (-keys[index], pool.members[index].priority, index),
    )
    return [pool.members[index] for index in ranked]


def _cost(pool: Pool, inputs: _Inputs) -> list[PoolMember]:
    # Unknown prices go last (they could be anything); among them, and among equal
    # costs, priority decides, then the order members were added in.
    by_priority = _by_priority(pool.members)
    priced: list[tuple[Decimal, int, PoolMember]] = []
    unpriced: list[PoolMember] = []
    for position, member in enumerate(by_priority):
        price = inputs.prices.get(member.model)
        if price is None:
            unpriced.append(member)
        else:
            priced.append((expected_cost(price, inputs.estimate), position, member))
    priced.sort(key=lambda entry: (entry[0], entry[1]))
    return [member for _, _, member in priced] + unpriced


def _cascade(pool: Pool, inputs: _Inputs) -> list[PoolMember]:
    # Steps are members by priority. A retried request starts higher; a failure within
    # the call moves further up; nothing ever moves down to a cheaper step.
    steps = _by_priority(pool.members)
    if not steps:
        return []
    start = min(max(inputs.cascade_step, 0), len(steps) - 1)
    return steps[start:]


_ORDERS: Final[Mapping[Strategy, Callable[[Pool, _Inputs], list[PoolMember]]]] = MappingProxyType(
    {"priority": _priority, "weighted": _weighted, "cost": _cost, "cascade": _cascade}
)


def order_members(
    pool: Pool,
    *,
    rng: random.Random,
    prices: Mapping[str, ModelPrice | None],
    estimate: TokenEstimate,
    cascade_step: int,
) -> tuple[str, ...]:
    """The pool's member models in the order this call tries them.

    - priority: by `priority` (lower first), then the order members were added;
    - weighted: a random permutation weighted by `weight` (deterministic given `rng`);
    - cost: cheapest expected price first (`expected_cost` of `estimate`), members
      without a known price last; ties by priority;
    - cascade: members by priority are the steps; the call starts at step
      `min(cascade_step, len - 1)` and only goes up from there, so a cascade call may
      try fewer members than the pool has.

    `prices` may lack models: a missing entry counts as an unknown price.
    """
    inputs = _Inputs(rng=rng, prices=prices, estimate=estimate, cascade_step=cascade_step)
    return tuple(member.model for member in _ORDERS[pool.strategy](pool, inputs))
