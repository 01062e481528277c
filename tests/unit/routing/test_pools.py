"""Pools: validation, strategy names, the choice of one pool (golden and properties)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dome.errors import ConfigError
from dome.routing import (
    ATTRIBUTES,
    STRATEGIES,
    ConsideredPool,
    MatchWhen,
    Pool,
    PoolMember,
    RequestAttributes,
    matches,
    parse_match_when,
    parse_strategy,
    select_pool,
    specificity,
    validate_pools,
)

HAIKU = RequestAttributes(
    model="claude-haiku-4-5", format="anthropic", stream=False, agent="planner", tenant="acme"
)
MEMBERS = (PoolMember("anthropic-prod"), PoolMember("openai-prod", priority=1))


def pool(name: str, predicate: object, *, order: int = 0, members: bool = True) -> Pool:
    return Pool(
        name=name,
        match_when=parse_match_when(predicate),
        strategy="priority",
        order=order,
        members=MEMBERS if members else (),
    )


CHEAP = pool("cheap-reasoning", {"request.model": ["claude-haiku-*", "gpt-5-mini"]})
CATCH_ALL = pool("catch-all", {})
EXACT = pool("haiku-exact", {"request.model": ["claude-haiku-4-5"]})
GLOBEX = pool("globex", {"agent.tenant": ["globex"], "request.model": ["*"]})


def test_strategies() -> None:
    assert STRATEGIES == ("priority", "weighted", "cost", "cascade")
    assert parse_strategy(" Cost ") == "cost"
    with pytest.raises(ConfigError, match="unknown pool strategy 'fastest'; use one of priority"):
        parse_strategy("fastest")


def test_member_and_pool_validation() -> None:
    with pytest.raises(ConfigError, match="weight must be at least 1"):
        PoolMember("m", weight=0)
    with pytest.raises(ConfigError, match="needs a model name"):
        PoolMember("")
    with pytest.raises(ConfigError, match="model m is a member twice"):
        Pool("p", MatchWhen({}), members=(PoolMember("m"), PoolMember("m", priority=2)))
    with pytest.raises(ConfigError, match="pool p: unknown strategy 'Cost'; use one of"):
        Pool("p", MatchWhen({}), strategy="Cost")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="needs a name"):
        Pool("", MatchWhen({}))
    with pytest.raises(ConfigError, match="two pools are named p"):
        validate_pools([Pool("p", MatchWhen({})), Pool("p", MatchWhen({}), order=1)])
    assert Pool("p", MatchWhen({})).strategy == "priority"


def test_most_specific_matching_pool_wins() -> None:
    choice = select_pool([CATCH_ALL, CHEAP, GLOBEX], HAIKU, requested="claude-haiku-4-5")
    assert choice.pool == CHEAP
    assert choice.why == (
        "pool cheap-reasoning: request.model matches claude-haiku-*, "
        "most specific of 2 matching pools"
    )
    assert choice.considered == (
        ConsideredPool("cheap-reasoning", matched=True, why="chosen"),
        ConsideredPool(
            "catch-all", matched=True, why="matches, but less specific than cheap-reasoning"
        ),
        ConsideredPool("globex", matched=False, why='agent.tenant "acme" matches none of globex'),
    )


def test_exact_beats_glob() -> None:
    choice = select_pool([CHEAP, EXACT], HAIKU, requested="claude-haiku-4-5")
    assert choice.pool == EXACT
    assert choice.why == (
        "pool haiku-exact: request.model matches claude-haiku-4-5, "
        "most specific of 2 matching pools"
    )


def test_only_matching_pool() -> None:
    choice = select_pool([CATCH_ALL], HAIKU, requested="claude-haiku-4-5")
    assert choice.why == (
        "pool catch-all: matches every request (empty match-when), the only matching pool"
    )


def test_ties_go_to_lower_order_then_name() -> None:
    first = pool("zeta", {"request.model": ["claude-*"]}, order=1)
    second = pool("alpha", {"request.model": ["claude-*"]}, order=2)
    choice = select_pool([second, first], HAIKU, requested="claude-haiku-4-5")
    assert choice.pool == first
    assert choice.why.endswith(
        "tied on specificity with alpha and chosen by lower order (1 < 2) of 2 matching pools"
    )
    assert choice.considered[1].why == "matches, tied with zeta but its order 2 > 1"

    by_name = pool("alpha", {"request.model": ["claude-*"]}, order=1)
    choice = select_pool([first, by_name], HAIKU, requested="claude-haiku-4-5")
    assert choice.pool == by_name
    assert "chosen by name" in choice.why


def test_a_pool_named_by_the_request_wins_outright() -> None:
    choice = select_pool([CATCH_ALL, GLOBEX, EXACT], HAIKU, requested="globex")
    assert choice.pool == GLOBEX
    assert choice.why == "pool globex: requested by name"
    assert choice.considered == (ConsideredPool("globex", matched=True, why="requested by name"),)


def test_empty_pools_are_passed_over_unless_named() -> None:
    empty = pool("empty", {"request.model": ["claude-haiku-4-5"]}, members=False)
    choice = select_pool([empty, CHEAP], HAIKU, requested="claude-haiku-4-5")
    assert choice.pool == CHEAP
    assert ConsideredPool("empty", matched=False, why="has no members") in choice.considered
    assert select_pool([empty], HAIKU, requested="empty").pool == empty


def test_no_pool() -> None:
    assert select_pool([], HAIKU, requested="m").why == (
        "no pools are configured; m is used as a model name"
    )
    choice = select_pool([GLOBEX], HAIKU, requested="claude-haiku-4-5")
    assert choice.pool is None
    assert choice.why == "none of 1 pools matches; claude-haiku-4-5 is used as a model name"
    assert choice.considered == (
        ConsideredPool("globex", matched=False, why='agent.tenant "acme" matches none of globex'),
    )


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ConfigError):
        select_pool([CHEAP, CHEAP], HAIKU, requested="x")


# Properties ---------------------------------------------------------------------------

values = st.sampled_from(["a", "b", "a*", "*", "?", "b?"])
requests = st.builds(
    RequestAttributes,
    model=st.sampled_from(["a", "b", "ab"]),
    format=st.sampled_from(["openai", "anthropic"]),
    stream=st.booleans(),
    agent=st.sampled_from(["a", "b"]),
    tenant=st.sampled_from(["a", "b", ""]),
)
_KEYS = ("request.model", "agent.name", "agent.tenant", "request.stream")


@st.composite
def predicates(draw: st.DrawFn) -> MatchWhen:
    keys = draw(st.lists(st.sampled_from(_KEYS), unique=True, max_size=3))
    conditions: dict[str, object] = {}
    for key in keys:
        if key == "request.stream":
            conditions[key] = [draw(st.booleans())]
        else:
            conditions[key] = draw(st.lists(values, min_size=1, max_size=2))
    return parse_match_when(conditions)


@st.composite
def pool_sets(draw: st.DrawFn) -> list[Pool]:
    count = draw(st.integers(min_value=0, max_value=6))
    return [
        Pool(
            name=f"pool-{index}",
            match_when=draw(predicates()),
            order=draw(st.integers(min_value=0, max_value=2)),
            members=(PoolMember("m"),),
        )
        for index in range(count)
    ]


@settings(max_examples=300)
@given(pool_sets(), requests, st.randoms(use_true_random=False))
def test_selection_properties(
    pools: list[Pool], attrs: RequestAttributes, rnd: random.Random
) -> None:
    choice = select_pool(pools, attrs, requested="not-a-pool")
    shuffled = list(pools)
    rnd.shuffle(shuffled)
    again = select_pool(shuffled, attrs, requested="not-a-pool")
    assert again == choice  # deterministic regardless of input order

    matching = [p for p in pools if matches(p.match_when, attrs)]
    assert {c.name for c in choice.considered if c.matched} == {p.name for p in matching}
    if choice.pool is None:
        assert not matching
        return
    chosen = choice.pool
    assert matches(chosen.match_when, attrs)
    for other in matching:
        assert specificity(other.match_when) <= specificity(chosen.match_when)
        if specificity(other.match_when) == specificity(chosen.match_when):
            assert (chosen.order, chosen.name) <= (other.order, other.name)


@given(pool_sets(), requests)
def test_naming_a_pool_wins_outright(pools: list[Pool], attrs: RequestAttributes) -> None:
    for named in pools:
        assert select_pool(pools, attrs, requested=named.name).pool == named


def test_attribute_list_is_covered() -> None:
    # The property tests draw from a subset; every attribute is at least parseable here.
    assert len(parse_match_when({key: ["true"] for key in ATTRIBUTES}).conditions) == 8
