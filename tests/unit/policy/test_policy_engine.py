"""Engine scenarios with realistic policies: grants, forbids, ceilings, residency, caps,
office hours, fail-closed evaluation errors, batches and tenant isolation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import cedarpy
import pytest

from dome.errors import ConfigError
from dome.policy import (
    Decision,
    PolicyEngine,
    PolicySource,
    Scope,
    explain,
)

from .worlds import GRANT_CHEAP, GRANT_FRONTIER, MODELS, WORLD, context, engine

CEILING = """
@id("platform.classification-ceiling")
@reason("the data is classified above what this workspace may send")
forbid (principal, action in [Action::"invoke", Action::"embed"], resource)
when { context.classification_level > principal.workspace.max_classification_level };
"""

RESTRICTED_IN_EU = """
@id("platform.restricted-stays-in-eu")
@reason("restricted data stays in EU regions")
forbid (principal, action, resource)
when {
  context.classification_level >= 3 &&
  (principal.workspace.residency == "eu" || context.region like "eu-*") &&
  !(resource.region like "eu-*")
};
"""

SANDBOX = """
@id("sandbox.token-cap")
@reason("sandbox calls are capped at 8000 tokens")
forbid (principal in Workspace::"sandbox", action == Action::"invoke", resource)
when { context.estimated_tokens > 8000 };

@id("sandbox.office-hours")
@reason("the sandbox works office hours, Monday to Friday 7:00-19:00 UTC")
forbid (principal in Workspace::"sandbox", action == Action::"invoke", resource)
unless { context.weekday <= 5 && context.hour >= 7 && context.hour < 19 };
"""

NO_GPT_4O = """
@id("support-bot.no-gpt-4o")
@reason("the support bot must not use GPT-4o models")
forbid (principal == Agent::"support-bot", action, resource)
when { resource.family like "gpt-4o*" };
"""


def _one(
    policy_engine: PolicyEngine, agent: str, model: str, action: str = "invoke", **facts: Any
) -> Decision:
    (decision,) = policy_engine.authorize(agent, action, [model], context(**facts))
    return decision


def test_without_policies_everything_is_denied_and_the_message_says_no_policy_permits() -> None:
    policy_engine = engine()
    decisions = policy_engine.authorize("planner", "invoke", MODELS, context())
    assert [d.outcome for d in decisions] == ["no_permit"] * len(MODELS)
    assert not any(d.allowed for d in decisions)
    assert explain(decisions[0], "planner", "invoke", "haiku") == (
        'no policy permits agent "planner" to invoke model "haiku"'
    )
    assert policy_engine.explain(decisions[0], "planner", "embed", "haiku") == (
        'no policy permits agent "planner" to embed with model "haiku"'
    )


def test_a_pool_grant_allows_its_models_only() -> None:
    policy_engine = engine(("tenant:acme", GRANT_CHEAP))
    decisions = policy_engine.authorize("planner", "invoke", MODELS, context())
    assert {d.resource: d.allowed for d in decisions} == {
        "haiku": True,
        "mini": True,
        "gpt4o": False,
        "sonnet-eu": False,
    }
    assert decisions[0].policy_ids == ("acme.cheap-reasoning",)
    assert decisions[0].outcome == "allow"
    assert explain(decisions[0], "planner", "invoke", "haiku") == (
        "allowed by policy acme.cheap-reasoning"
    )
    for action in ("embed", "count_tokens", "list_models"):
        assert _one(policy_engine, "planner", "haiku", action=action).allowed


def test_a_family_forbid_at_agent_scope_denies_with_its_reason() -> None:
    policy_engine = engine(("tenant:acme", GRANT_CHEAP), ("agent:support-bot", NO_GPT_4O))
    mini = _one(policy_engine, "support-bot", "mini")
    assert not mini.allowed
    assert mini.outcome == "forbid"
    assert mini.policy_ids == ("support-bot.no-gpt-4o",)
    assert mini.reasons == ("the support bot must not use GPT-4o models",)
    assert explain(mini, "support-bot", "invoke", "mini") == (
        "denied by policy support-bot.no-gpt-4o: the support bot must not use GPT-4o models"
    )
    assert _one(policy_engine, "support-bot", "haiku").allowed
    assert _one(policy_engine, "planner", "mini").allowed  # another agent


def test_the_classification_ceiling_follows_each_workspace() -> None:
    policy_engine = engine(("tenant:acme", GRANT_CHEAP), ("platform", CEILING))
    # sandbox may carry up to internal, research up to confidential, support anything.
    assert _one(policy_engine, "tinker", "haiku", classification="internal").allowed
    denied = _one(policy_engine, "tinker", "haiku", classification="confidential")
    assert denied.policy_ids == ("platform.classification-ceiling",)
    assert _one(policy_engine, "planner", "haiku", classification="confidential").allowed
    assert not _one(policy_engine, "planner", "haiku", classification="restricted").allowed
    assert _one(policy_engine, "support-bot", "haiku", classification="restricted").allowed
    # Listing names no data, so the ceiling leaves it alone.
    listing = _one(
        policy_engine, "tinker", "haiku", classification="restricted", action="list_models"
    )
    assert listing.allowed


def test_restricted_data_stays_in_eu_regions() -> None:
    policy_engine = engine(
        ("tenant:acme", GRANT_CHEAP + GRANT_FRONTIER), ("platform", RESTRICTED_IN_EU)
    )
    us, eu = "gpt4o", "sonnet-eu"
    denied = _one(policy_engine, "support-bot", us, classification="restricted", region="eu-west-1")
    assert denied.policy_ids == ("platform.restricted-stays-in-eu",)
    assert denied.reasons == ("restricted data stays in EU regions",)
    assert _one(
        policy_engine, "support-bot", eu, classification="restricted", region="eu-west-1"
    ).allowed
    # From the US, to a workspace without residency: allowed anywhere.
    assert _one(
        policy_engine, "support-bot", us, classification="restricted", region="us-east-1"
    ).allowed
    # research is EU-resident: even from the US, its restricted data stays in the EU.
    assert not _one(
        policy_engine, "planner", us, classification="restricted", region="us-east-1"
    ).allowed
    assert _one(
        policy_engine, "planner", us, classification="confidential", region="eu-west-1"
    ).allowed


def test_a_token_cap_per_call_applies_to_invoke_only() -> None:
    policy_engine = engine(("tenant:acme", GRANT_CHEAP), ("workspace:sandbox", SANDBOX))
    assert _one(policy_engine, "tinker", "haiku", tokens=8000).allowed
    big = _one(policy_engine, "tinker", "haiku", tokens=8001)
    assert big.policy_ids == ("sandbox.token-cap",)
    assert _one(policy_engine, "tinker", "haiku", tokens=8001, action="count_tokens").allowed
    assert _one(policy_engine, "planner", "haiku", tokens=200_000).allowed  # other workspace


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        (datetime(2026, 11, 26, 10, 0, tzinfo=UTC), True),  # Thursday 10:00
        (datetime(2026, 11, 26, 7, 0, tzinfo=UTC), True),
        (datetime(2026, 11, 26, 6, 59, tzinfo=UTC), False),
        (datetime(2026, 11, 26, 19, 0, tzinfo=UTC), False),
        (datetime(2026, 11, 28, 10, 0, tzinfo=UTC), False),  # Saturday
    ],
)
def test_office_hours_from_the_context_hour_and_weekday(now: datetime, allowed: bool) -> None:
    policy_engine = engine(("tenant:acme", GRANT_CHEAP), ("workspace:sandbox", SANDBOX))
    decision = _one(policy_engine, "tinker", "haiku", now=now)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.policy_ids == ("sandbox.office-hours",)


OVERFLOW = """
@id("acme.overflowing-forbid")
@reason("would deny every call, but its condition overflows")
forbid (principal in Tenant::"acme", action, resource)
when { context.estimated_tokens * 9223372036854775807 > 0 };
"""


def test_a_policy_that_errors_at_evaluation_denies() -> None:
    policy_engine = engine(("tenant:acme", GRANT_CHEAP + OVERFLOW))
    decision = _one(policy_engine, "planner", "haiku", tokens=10)
    assert not decision.allowed
    assert decision.outcome == "error"
    assert decision.policy_ids == ("acme.cheap-reasoning",)  # the permit Cedar would follow
    assert len(decision.errors) == 1
    assert "acme.overflowing-forbid" in decision.errors[0]
    assert "integer overflow" in decision.errors[0]
    message = explain(decision, "planner", "invoke", "haiku")
    assert message.startswith("denied: policy evaluation failed (error while evaluating policy")
    # Cedar alone skips the failing forbid and allows: that is what failing closed prevents.
    handles = policy_engine._agents["planner"]
    raw = cedarpy.is_authorized(
        {
            "principal": {"type": "Agent", "id": "planner"},
            "action": {"type": "Action", "id": "invoke"},
            "resource": {"type": "Model", "id": "haiku"},
            "context": context(tokens=10).to_cedar(),
        },
        handles.policies,
        cedarpy.Entities(handles.entities),
        policy_engine._schema,
    )
    assert raw.decision == cedarpy.Decision.Allow
    # With 0 tokens nothing overflows and the forbid holds.
    assert _one(policy_engine, "planner", "haiku", tokens=0).outcome == "allow"


def test_a_batch_of_candidates_gets_one_decision_each_in_order() -> None:
    policy_engine = engine(
        ("tenant:acme", GRANT_CHEAP + GRANT_FRONTIER), ("agent:support-bot", NO_GPT_4O)
    )
    candidates = ["gpt4o", "sonnet-eu", "ghost", "mini", "haiku"]
    decisions = policy_engine.authorize("support-bot", "invoke", candidates, context())
    assert [d.resource for d in decisions] == candidates
    assert [d.outcome for d in decisions] == ["forbid", "allow", "error", "forbid", "allow"]
    assert decisions[2].errors == ("unknown model 'ghost'",)
    assert decisions[1].policy_ids == ("acme.frontier",)
    assert policy_engine.allowed_resources("support-bot", "list_models", candidates, context()) == (
        "sonnet-eu",
        "haiku",
    )
    assert policy_engine.authorize("support-bot", "invoke", [], context()) == ()


def test_unknown_agents_and_actions_are_denied_not_raised() -> None:
    policy_engine = engine(("platform", '@id("all") permit (principal, action, resource);'))
    assert _one(policy_engine, "planner", "haiku").allowed
    ghost = _one(policy_engine, "ghost", "haiku")
    assert (ghost.allowed, ghost.errors) == (False, ("unknown agent 'ghost'",))
    (bad_action,) = policy_engine.authorize("planner", "delete", ["haiku"], context())
    assert bad_action.errors == ("unknown action 'delete'",)
    assert explain(ghost, "ghost", "invoke", "haiku") == (
        "denied: policy evaluation failed (unknown agent 'ghost')"
    )


def test_a_context_cedar_cannot_take_is_a_denial() -> None:
    policy_engine = engine(("platform", '@id("all") permit (principal, action, resource);'))
    facts = context().to_cedar()
    for broken in (
        {**facts, "extra": 1},
        {**facts, "estimated_tokens": 1.5},
        {**facts, "region": None},
    ):
        (decision,) = policy_engine.decide("planner", "invoke", ["haiku"], broken)
        assert (decision.allowed, decision.outcome) == (False, "error")
        assert decision.errors
    (huge,) = policy_engine.decide(
        "planner", "invoke", ["haiku"], {**facts, "estimated_tokens": 2**64}
    )
    assert huge.outcome == "error"


def test_a_tenants_policies_never_apply_to_another_tenants_agents() -> None:
    globex_all = '@id("globex.all") permit (principal in Tenant::"globex", action, resource);'
    policy_engine = engine(("tenant:acme", GRANT_CHEAP), ("tenant:globex", globex_all))
    assert _one(policy_engine, "gx-bot", "gpt4o").allowed
    assert _one(policy_engine, "gx-bot", "haiku").policy_ids == ("globex.all",)
    assert _one(policy_engine, "planner", "gpt4o").outcome == "no_permit"
    # Even a policy stored at globex that names acme's agents (it would fail the scope
    # check on apply) cannot reach them: each tenant is evaluated with its own set.
    smuggled = PolicySource(
        "globex.smuggled",
        Scope("tenant", "globex"),
        '@id("globex.smuggled") permit (principal in Tenant::"acme", action, resource);',
    )
    built = PolicyEngine.build(WORLD, [smuggled], version=1)
    assert not _one(built, "planner", "gpt4o").allowed
    forbid = PolicySource(
        "research.forbid-sandbox",
        Scope("workspace", "research"),
        '@id("research.forbid-sandbox") forbid (principal in Workspace::"sandbox", action, resource);',
    )
    built = PolicyEngine.build(WORLD, [*_acme_cheap(), forbid], version=1)
    assert _one(built, "tinker", "haiku").allowed


def _acme_cheap() -> list[PolicySource]:
    return [
        PolicySource(
            "acme.cheap-reasoning",
            Scope("tenant", "acme"),
            GRANT_CHEAP.strip(),
        )
    ]


def test_version_digest_and_build_errors() -> None:
    first = engine(("tenant:acme", GRANT_CHEAP), version=7)
    assert first.version == 7
    assert first.digest == first.compiled.digest
    assert engine(("tenant:acme", GRANT_CHEAP)).digest == first.digest
    assert engine(("tenant:acme", GRANT_FRONTIER)).digest != first.digest
    typo = PolicySource(
        "typo",
        Scope("platform"),
        '@id("typo") forbid (principal, action, resource) when { context.hours > 1 };',
    )
    with pytest.raises(
        ConfigError, match='<generated> \\(platform\\): policy "typo": attribute `hours`'
    ):
        PolicyEngine.build(WORLD, [typo], version=2)


def test_policies_at_a_scope_that_no_longer_exists_are_left_out_and_listed() -> None:
    gone = PolicySource(
        "gone.grant",
        Scope("workspace", "gone"),
        '@id("gone.grant") permit (principal in Workspace::"gone", action, resource);',
    )
    built = PolicyEngine.build(WORLD, [gone, *_acme_cheap()], version=1)
    assert built.orphaned == ("gone.grant",)
    assert _one(built, "planner", "haiku").allowed


def test_the_engine_agrees_with_cedarpys_public_entry_point() -> None:
    # The engine calls the binding's raw batch function for speed; this pins that it
    # decides exactly as the public wrapper does (guards a cedarpy upgrade).
    policy_engine = engine(
        ("platform", CEILING + RESTRICTED_IN_EU),
        ("tenant:acme", GRANT_CHEAP + GRANT_FRONTIER + OVERFLOW),
        ("workspace:sandbox", SANDBOX),
        ("agent:support-bot", NO_GPT_4O),
    )
    for agent in ("planner", "tinker", "support-bot", "gx-bot"):
        for facts in (
            context(tokens=0),
            context(tokens=50, classification="restricted", region="eu-west-1"),
            context(
                tokens=0, classification="confidential", now=datetime(2026, 11, 28, tzinfo=UTC)
            ),
        ):
            decisions = policy_engine.authorize(agent, "invoke", MODELS, facts)
            handles = policy_engine._agents[agent]
            requests = [
                {
                    "principal": {"type": "Agent", "id": agent},
                    "action": {"type": "Action", "id": "invoke"},
                    "resource": {"type": "Model", "id": model},
                    "context": facts.to_cedar(),
                }
                for model in MODELS
            ]
            public = cedarpy.is_authorized_batch(
                requests,
                handles.policies,
                cedarpy.Entities(handles.entities),
                policy_engine._schema,
            )
            for decision, result in zip(decisions, public, strict=True):
                errors = tuple(result.diagnostics.errors)
                assert decision.allowed == (result.allowed and not errors)
                assert decision.policy_ids == tuple(sorted(result.diagnostics.reasons))
                assert decision.errors == errors
