"""Strategies: the order a call tries a pool's members in."""

# Seeded `random.Random` instances make every draw below reproducible.
# ruff: noqa: S311

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dome.routing import (
    MatchWhen,
    ModelPrice,
    Pool,
    PoolMember,
    Strategy,
    TokenEstimate,
    expected_cost,
    order_members,
)

ESTIMATE = TokenEstimate(input_tokens=1000, output_tokens=500)


def make_pool(strategy: Strategy, *members: PoolMember) -> Pool:
    return Pool("p", MatchWhen({}), strategy=strategy, members=members)


def order(
    pool: Pool,
    *,
    seed: int = 0,
    prices: dict[str, ModelPrice | None] | None = None,
    step: int = 0,
) -> tuple[str, ...]:
    return order_members(
        pool,
        rng=random.Random(seed),
        prices=prices or {},
        estimate=ESTIMATE,
        cascade_step=step,
    )


def test_priority_orders_by_priority_then_position() -> None:
    pool = make_pool(
        "priority",
        PoolMember("c", priority=2),
        PoolMember("a", priority=1),
        PoolMember("b", priority=1),
        PoolMember("d", priority=-1),
    )
    assert order(pool) == ("d", "a", "b", "c")


def test_empty_pool_orders_nothing() -> None:
    for strategy in ("priority", "weighted", "cost", "cascade"):
        assert order(make_pool(strategy), step=3) == ()


def test_expected_cost_is_exact() -> None:
    price = ModelPrice(Decimal(3), Decimal(15))
    assert expected_cost(price, ESTIMATE) == Decimal("0.0105")
    assert expected_cost(price, TokenEstimate(0, 0)) == 0


def test_cost_cheapest_first_unknown_last_ties_by_priority() -> None:
    pool = make_pool(
        "cost",
        PoolMember("opus", priority=0),
        PoolMember("mystery-b", priority=2),
        PoolMember("haiku", priority=3),
        PoolMember("mini", priority=1),
        PoolMember("mystery-a", priority=1),
        PoolMember("twin", priority=0),
    )
    prices: dict[str, ModelPrice | None] = {
        "opus": ModelPrice(Decimal(15), Decimal(75)),
        "haiku": ModelPrice(Decimal(1), Decimal(5)),
        # The same expected cost as haiku (1000 * 0.5 + 500 * 6 == 1000 * 1 + 500 * 5),
        # so priority breaks the tie: mini (1) before haiku (3).
        "mini": ModelPrice(Decimal("0.5"), Decimal(6)),
        "twin": ModelPrice(Decimal(15), Decimal(75)),
        "mystery-a": None,  # an unknown price, spelled out
    }
    assert order(pool, prices=prices) == (
        "mini",
        "haiku",
        "opus",
        "twin",
        "mystery-a",
        "mystery-b",
    )


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (0, ("small", "medium", "large")),
        (1, ("medium", "large")),
        (2, ("large",)),
        (7, ("large",)),
        (-1, ("small", "medium", "large")),
    ],
)
def test_cascade_starts_at_the_step(step: int, expected: tuple[str, ...]) -> None:
    pool = make_pool(
        "cascade",
        PoolMember("large", priority=3),
        PoolMember("small", priority=1),
        PoolMember("medium", priority=2),
    )
    assert order(pool, step=step) == expected


@given(
    st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=6),
    st.integers(min_value=0, max_value=10),
    st.integers(min_value=0, max_value=10),
)
def test_cascade_never_goes_down(priorities: list[int], step: int, later: int) -> None:
    members = tuple(PoolMember(f"m{i}", priority=p) for i, p in enumerate(priorities))
    pool = make_pool("cascade", *members)
    steps = order(make_pool("priority", *members))
    tried = order(pool, step=step)
    # A suffix of the steps: from the start it goes only up, to the top step.
    assert tried == steps[len(steps) - len(tried) :]
    assert tried
    # A higher cascade step never starts lower.
    higher = order(pool, step=step + later)
    assert steps.index(higher[0]) >= steps.index(tried[0])


def test_weighted_is_a_permutation_and_deterministic_given_the_rng() -> None:
    pool = make_pool(
        "weighted", PoolMember("a", weight=1), PoolMember("b", weight=3), PoolMember("c")
    )
    for seed in range(50):
        first = order(pool, seed=seed)
        assert sorted(first) == ["a", "b", "c"]
        assert order(pool, seed=seed) == first


def test_weighted_first_choice_is_proportional_to_weight() -> None:
    pool = make_pool(
        "weighted",
        PoolMember("light", weight=1),
        PoolMember("medium", weight=2),
        PoolMember("heavy", weight=7),
    )
    rng = random.Random(20240501)
    draws = 5000
    firsts = Counter(
        order_members(pool, rng=rng, prices={}, estimate=ESTIMATE, cascade_step=0)[0]
        for _ in range(draws)
    )
    # Seeded: the counts are fixed; the bounds show they are about 10% / 20% / 70%.
    assert 400 <= firsts["light"] <= 600
    assert 850 <= firsts["medium"] <= 1150
    assert 3300 <= firsts["heavy"] <= 3700


def test_weighted_second_choice_is_proportional_among_the_rest() -> None:
    # After "heavy" is drawn first, "light" and "medium" follow 1:2.
    pool = make_pool(
        "weighted",
        PoolMember("light", weight=1),
        PoolMember("medium", weight=2),
        PoolMember("heavy", weight=7),
    )
    rng = random.Random(7)
    seconds = Counter[str]()
    for _ in range(6000):
        ordered = order_members(pool, rng=rng, prices={}, estimate=ESTIMATE, cascade_step=0)
        if ordered[0] == "heavy":
            seconds[ordered[1]] += 1
    share = seconds["medium"] / (seconds["light"] + seconds["medium"])
    assert 0.62 <= share <= 0.72


def test_equal_weights_spread_evenly() -> None:
    pool = make_pool("weighted", *(PoolMember(name) for name in "abcd"))
    rng = random.Random(99)
    firsts = Counter(
        order_members(pool, rng=rng, prices={}, estimate=ESTIMATE, cascade_step=0)[0]
        for _ in range(4000)
    )
    assert all(850 <= firsts[name] <= 1150 for name in "abcd")
