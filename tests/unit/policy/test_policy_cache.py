"""Remembered decisions: keyed on what the policies read, never a different answer."""

from __future__ import annotations

from datetime import timedelta

import cedarpy
import orjson

from dome.policy.cache import context_fields

from .worlds import GRANT_CHEAP, THURSDAY_10, context, engine

TOKEN_CAP = """
@id("acme.sandbox-cap")
@reason("capped")
forbid (principal in Workspace::"sandbox", action == Action::"invoke", resource)
when { context.estimated_tokens > 8000 };
"""
OFFICE_HOURS = """
@id("acme.hours")
forbid (principal, action == Action::"invoke", resource)
unless { context.now.toTime() >= duration("7h") };
"""


def _fields(text: str) -> tuple[str, ...] | None:
    document = orjson.loads(cedarpy.policies_to_json_str(text))
    return context_fields(document["staticPolicies"].values())


def test_the_key_holds_exactly_the_context_the_policies_read() -> None:
    assert _fields(GRANT_CHEAP) == ()
    assert _fields(TOKEN_CAP) == ("estimated_tokens",)
    policy = '@id("x") forbid(principal, action, resource) when { context has region };'
    assert _fields(policy) == ("region",)
    whole = '@id("y") forbid(principal, action, resource) when { context == {"a": 1} };'
    assert _fields(whole) is None  # the whole context as a value: not cacheable
    assert _fields(OFFICE_HOURS) is None  # the time: every second a new key


def test_cached_decisions_follow_what_the_policies_read() -> None:
    rules = engine(("tenant:acme", GRANT_CHEAP), ("workspace:sandbox", TOKEN_CAP))
    small, large = context(tokens=100), context(tokens=9000)
    for _ in range(2):  # the second round is served from the cache
        (allowed,) = rules.authorize("tinker", "invoke", ["haiku"], small)
        (capped,) = rules.authorize("tinker", "invoke", ["haiku"], large)
        assert allowed.allowed
        assert not capped.allowed
        assert capped.policy_ids == ("acme.sandbox-cap",)
    # A context difference no policy reads shares the decision (and its object).
    first = rules.authorize("planner", "invoke", ["haiku"], context(region="us-east-1"))
    again = rules.authorize("planner", "invoke", ["haiku"], context(region="eu-west-1"))
    assert first is again


def test_time_dependent_sets_are_decided_afresh() -> None:
    rules = engine(("tenant:acme", GRANT_CHEAP), ("platform", OFFICE_HOURS))
    (day,) = rules.authorize("planner", "invoke", ["haiku"], context(now=THURSDAY_10))
    night = THURSDAY_10.replace(hour=3)
    (early,) = rules.authorize("planner", "invoke", ["haiku"], context(now=night))
    (later,) = rules.authorize(
        "planner", "invoke", ["haiku"], context(now=night + timedelta(hours=5))
    )
    assert (day.allowed, early.allowed, later.allowed) == (True, False, True)
