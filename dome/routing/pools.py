"""Pools and the choice of one pool for a call.

Pure: the pools come from the config snapshot, the attributes from the request. The
choice is deterministic (it never depends on the order the pools are listed in) and
carries the sentence `dome route explain` prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

from dome.errors import ConfigError
from dome.routing.match import (
    MatchWhen,
    RequestAttributes,
    describe_match,
    describe_mismatch,
    matches,
    specificity,
)

Strategy = Literal["priority", "weighted", "cost", "cascade"]
STRATEGIES: Final[tuple[Strategy, ...]] = get_args(Strategy)
DEFAULT_STRATEGY: Final[Strategy] = "priority"


def parse_strategy(value: str) -> Strategy:
    """The strategy named by operator input (`--strategy`), case-insensitive.

    Raises:
        ConfigError: not one of `STRATEGIES`.
    """
    for strategy in STRATEGIES:
        if value.strip().lower() == strategy:
            return strategy
    raise ConfigError(
        f"unknown pool strategy {value!r}; use one of {', '.join(STRATEGIES)}", param="strategy"
    )


@dataclass(frozen=True, slots=True)
class PoolMember:
    """One model entry in a pool: `priority` orders failover (lower first), `weight`
    spreads traffic under the weighted strategy (a positive integer)."""

    model: str
    priority: int = 0
    weight: int = 1

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError("a pool member needs a model name", param="model")
        # Weighted ordering raises a uniform draw to 1/weight: zero or negative is undefined.
        if self.weight < 1:
            raise ConfigError(
                f"pool member {self.model}: weight must be at least 1, got {self.weight}",
                param="weight",
            )


@dataclass(frozen=True, slots=True)
class Pool:
    """A named set of members with a predicate and a strategy.

    `order` only breaks ties between equally specific matching pools (lower wins).
    A pool may be empty while the operator is still adding members: predicate matching
    then passes it over, so traffic is never captured by a pool that cannot serve it.
    """

    name: str
    match_when: MatchWhen
    strategy: Strategy = DEFAULT_STRATEGY
    order: int = 0
    members: tuple[PoolMember, ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("a pool needs a name", param="name")
        if self.strategy not in STRATEGIES:
            raise ConfigError(
                f"pool {self.name}: unknown strategy {self.strategy!r}; "
                f"use one of {', '.join(STRATEGIES)}",
                param="strategy",
            )
        seen: set[str] = set()
        for member in self.members:
            if member.model in seen:
                raise ConfigError(
                    f"pool {self.name}: model {member.model} is a member twice", param="model"
                )
            seen.add(member.model)


def validate_pools(pools: Iterable[Pool]) -> None:
    """Checks across pools, for the snapshot loader: names are unique.

    Raises:
        ConfigError: two pools share a name.
    """
    seen: set[str] = set()
    for pool in pools:
        if pool.name in seen:
            raise ConfigError(f"two pools are named {pool.name}", param="name")
        seen.add(pool.name)


@dataclass(frozen=True, slots=True)
class ConsideredPool:
    """One pool as the choice saw it: whether its predicate held, and why (not) chosen."""

    name: str
    matched: bool
    why: str


@dataclass(frozen=True, slots=True)
class PoolChoice:
    """The pool a call goes to (`None`: no pool, the request names a model directly).

    `considered` lists every pool, matching ones first in rank order (the chosen one
    leads), then the others by name.
    """

    pool: Pool | None
    why: str
    considered: tuple[ConsideredPool, ...]


def _rank(pool: Pool) -> tuple[int, int, int, str]:
    # Most specific first; then lower `order`; then the name, so no input order leaks in.
    keys, negated_globs = specificity(pool.match_when)
    return (-keys, -negated_globs, pool.order, pool.name)


def select_pool(pools: Iterable[Pool], attrs: RequestAttributes, *, requested: str) -> PoolChoice:
    """The pool for a call.

    A request whose model names a pool (`requested == pool.name`) gets that pool
    outright, predicates unseen. Otherwise the pools whose match-when holds (and that
    have members) compete: the most specific wins (`specificity`), ties go to the lower
    `order`, then to the name.

    Raises:
        ConfigError: two pools share a name (the snapshot loader should have refused it).
    """
    listed = sorted(pools, key=lambda pool: pool.name)
    validate_pools(listed)
    for pool in listed:
        if pool.name == requested:
            return PoolChoice(
                pool=pool,
                why=f"pool {pool.name}: requested by name",
                considered=(ConsideredPool(pool.name, matched=True, why="requested by name"),),
            )
    matching = sorted(
        (pool for pool in listed if pool.members and matches(pool.match_when, attrs)),
        key=_rank,
    )
    chosen = {pool.name for pool in matching}
    others = tuple(_considered_unmatched(pool, attrs) for pool in listed if pool.name not in chosen)
    if not matching:
        return PoolChoice(pool=None, why=_why_none(len(listed), requested), considered=others)
    winner = matching[0]
    considered = (
        ConsideredPool(winner.name, matched=True, why="chosen"),
        *(_considered_loser(pool, winner) for pool in matching[1:]),
        *others,
    )
    return PoolChoice(pool=winner, why=_why_winner(winner, matching, attrs), considered=considered)


def _predicate_phrase(pool: Pool, attrs: RequestAttributes) -> str:
    phrases = describe_match(pool.match_when, attrs)
    return ", ".join(phrases) if phrases else "matches every request (empty match-when)"


def _why_winner(winner: Pool, matching: Sequence[Pool], attrs: RequestAttributes) -> str:
    head = f"pool {winner.name}: {_predicate_phrase(winner, attrs)}"
    if len(matching) == 1:
        return f"{head}, the only matching pool"
    runner_up = matching[1]
    if specificity(runner_up.match_when) != specificity(winner.match_when):
        return f"{head}, most specific of {len(matching)} matching pools"
    if runner_up.order != winner.order:
        return (
            f"{head}, tied on specificity with {runner_up.name} and chosen by lower order "
            f"({winner.order} < {runner_up.order}) of {len(matching)} matching pools"
        )
    return (
        f"{head}, tied on specificity and order with {runner_up.name} and chosen by name "
        f"of {len(matching)} matching pools"
    )


def _considered_loser(pool: Pool, winner: Pool) -> ConsideredPool:
    if specificity(pool.match_when) != specificity(winner.match_when):
        why = f"matches, but less specific than {winner.name}"
    elif pool.order != winner.order:
        why = f"matches, tied with {winner.name} but its order {pool.order} > {winner.order}"
    else:
        why = f"matches, tied with {winner.name} on specificity and order; lost on name"
    return ConsideredPool(pool.name, matched=True, why=why)


def _considered_unmatched(pool: Pool, attrs: RequestAttributes) -> ConsideredPool:
    if not pool.members:
        return ConsideredPool(pool.name, matched=False, why="has no members")
    failing = describe_mismatch(pool.match_when, attrs)
    return ConsideredPool(pool.name, matched=False, why="; ".join(failing))


def _why_none(pool_count: int, requested: str) -> str:
    if pool_count == 0:
        return f"no pools are configured; {requested} is used as a model name"
    return f"none of {pool_count} pools matches; {requested} is used as a model name"
