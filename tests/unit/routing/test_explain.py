"""`dome route explain`: exclusion reasons, the explanation's data and its text."""

from __future__ import annotations

from dome.routing import (
    WILL_TRY,
    Candidate,
    MemberHealth,
    Pool,
    PoolMember,
    RequestAttributes,
    exclusion_reasons,
    explain_route,
    parse_match_when,
    select_pool,
)

from .clock import FakeClock

ATTRS = RequestAttributes(model="claude-haiku-4-5", format="anthropic", stream=False)
CHEAP = Pool(
    "cheap-reasoning",
    parse_match_when({"request.model": ["claude-haiku-*"]}),
    members=(PoolMember("anthropic-eu"), PoolMember("openai-us"), PoolMember("bedrock-eu")),
)
CATCH_ALL = Pool("catch-all", parse_match_when({}), members=(PoolMember("x"),))
ORDERED = ("anthropic-eu", "openai-us", "bedrock-eu", "denied-eu", "limited-eu")
REGIONS = {
    "anthropic-eu": "eu-west-1",
    "openai-us": "us-east-1",
    "bedrock-eu": "eu-central-1",
    "denied-eu": "eu",
    "limited-eu": "eu",
}


def broken_health(clock: FakeClock) -> MemberHealth:
    health = MemberHealth(clock, failure_threshold=1, cooldown_seconds=30)
    health.record("anthropic-eu", "server_error", None)
    health.record("limited-eu", "rate_limited", 12.0)
    return health


def test_exclusion_reasons_in_the_order_the_call_applies_them() -> None:
    clock = FakeClock(100.0)
    reasons = exclusion_reasons(
        ORDERED,
        denied={"denied-eu": ("forbid-eu-batch",), "openai-us": ()},
        regions=REGIONS,
        pin="eu",
        health=broken_health(clock),
    )
    assert reasons == {
        "anthropic-eu": "circuit open until 130.000 (30.0s from now)",
        "openai-us": "denied by policy (default deny)",  # policy is reported before region
        "denied-eu": "denied by policy forbid-eu-batch",
        "limited-eu": "skipped: retry-after until 112.000 (12.0s from now)",
    }


def test_exclusions_claim_no_probe() -> None:
    clock = FakeClock()
    health = MemberHealth(clock, failure_threshold=1, cooldown_seconds=30)
    health.record("m", "timeout", None)
    clock.advance(30)
    assert exclusion_reasons(["m"], denied={}, regions={}, pin=None, health=health) == {}
    assert health.available("m")  # the probe is still there to claim
    assert exclusion_reasons(["m"], denied={}, regions={}, pin=None, health=health) == {
        "m": "skipped: circuit half-open, a probe is in flight"
    }


def test_render_a_pool_route() -> None:
    clock = FakeClock(100.0)
    choice = select_pool([CHEAP, CATCH_ALL], ATTRS, requested="claude-haiku-4-5")
    reasons = exclusion_reasons(
        ORDERED[:3], denied={}, regions=REGIONS, pin="eu", health=broken_health(clock)
    )
    explanation = explain_route(
        requested="claude-haiku-4-5",
        agent="planner",
        choice=choice,
        ordered=ORDERED[:3],
        exclusions=reasons,
        pin="eu",
    )
    assert explanation.candidates == (
        Candidate("anthropic-eu", "circuit open until 130.000 (30.0s from now)"),
        Candidate("openai-us", "outside region pin eu"),
        Candidate("bedrock-eu", WILL_TRY),
    )
    assert explanation.render() == (
        "route for model claude-haiku-4-5 (agent planner)\n"
        "pool cheap-reasoning: request.model matches claude-haiku-*, most specific of 2 "
        "matching pools\n"
        "pools considered:\n"
        "  cheap-reasoning  chosen\n"
        "  catch-all        matches, but less specific than cheap-reasoning\n"
        "strategy: priority\n"
        "region pin: eu\n"
        "candidates, in order:\n"
        "  1. anthropic-eu  circuit open until 130.000 (30.0s from now)\n"
        "  2. openai-us     outside region pin eu\n"
        "  3. bedrock-eu    will try\n"
    )
    data = explanation.to_json()
    assert data["pool"] == "cheap-reasoning"
    assert data["strategy"] == "priority"
    assert data["region_pin"] == "eu"
    assert data["candidates"] == [
        {
            "model": "anthropic-eu",
            "status": "circuit open until 130.000 (30.0s from now)",
            "will_try": False,
        },
        {"model": "openai-us", "status": "outside region pin eu", "will_try": False},
        {"model": "bedrock-eu", "status": "will try", "will_try": True},
    ]


def test_render_a_pinned_call_with_nowhere_to_go() -> None:
    choice = select_pool([], ATTRS, requested="gpt-4o")
    explanation = explain_route(
        requested="gpt-4o",
        agent=None,
        choice=choice,
        ordered=["gpt-4o"],
        exclusions={"gpt-4o": "outside region pin eu"},
        pin="eu",
    )
    assert explanation.render() == (
        "route for model gpt-4o\n"
        "no pools are configured; gpt-4o is used as a model name\n"
        "region pin: eu\n"
        "candidates, in order:\n"
        "  1. gpt-4o  outside region pin eu\n"
        "no candidate would be tried: the call fails; pinned to region eu, it is never "
        "served elsewhere\n"
    )
    assert explanation.to_json()["pool"] is None


def test_render_without_candidates() -> None:
    choice = select_pool([], ATTRS, requested="m")
    text = explain_route(
        requested="m", agent="a", choice=choice, ordered=(), exclusions={}
    ).render()
    assert text.endswith("region pin: none\ncandidates: none\n")
