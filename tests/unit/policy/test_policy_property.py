"""Property: adding a forbid never turns a denial into an allow.

Random small policy sets over the test world (including conditions that overflow at
evaluation, the case where Cedar skips a policy) and random requests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dome.policy import (
    ACTIONS,
    CallContext,
    Classification,
    PolicyEngine,
    PolicySource,
    Scope,
)

from .worlds import MODELS, WORLD

PRINCIPALS = (
    "principal",
    "principal is Agent",
    'principal in Tenant::"acme"',
    'principal in Tenant::"globex"',
    'principal in Workspace::"research"',
    'principal is Agent in Workspace::"sandbox"',
    'principal == Agent::"planner"',
)
ACTION_SCOPES = (
    "action",
    'action in Action::"access"',
    'action == Action::"invoke"',
    'action in [Action::"embed", Action::"count_tokens"]',
)
RESOURCES = (
    "resource",
    'resource in Pool::"cheap-reasoning"',
    'resource in Pool::"frontier"',
    'resource == Model::"gpt4o"',
    'resource in Provider::"anthropic"',
)
CONDITIONS = (
    "",
    "when { context.estimated_tokens > 5000 }",
    "when { context.classification_level > principal.workspace.max_classification_level }",
    "unless { context.hour >= 7 && context.hour < 19 && context.weekday <= 5 }",
    'when { resource.family like "gpt-4o*" }',
    "when { context.stream }",
    'when { principal.labels.contains("batch") }',
    'when { context.region like "eu-*" && !(resource.region like "eu-*") }',
    # Overflows (an evaluation error) once the estimate reaches 2.
    "when { context.estimated_tokens * 4611686018427387904 > 0 }",
)

policies = st.tuples(
    st.sampled_from(("permit", "permit", "forbid")),  # permits first, so allows are common
    st.sampled_from(PRINCIPALS),
    st.sampled_from(ACTION_SCOPES),
    st.sampled_from(RESOURCES),
    st.sampled_from(CONDITIONS),
)
forbids = policies.map(lambda p: ("forbid", *p[1:]))
contexts = st.builds(
    CallContext,
    requested_model=st.sampled_from(MODELS),
    classification=st.sampled_from(("public", "internal", "confidential", "restricted")).map(
        Classification.of
    ),
    region=st.sampled_from(("eu-west-1", "us-east-1", "")),
    estimated_tokens=st.integers(0, 300_000) | st.sampled_from((0, 1, 2)),
    stream=st.booleans(),
    format=st.sampled_from(("openai", "anthropic")),
    now=st.integers(0, 7 * 24 - 1).map(
        lambda hours: datetime(2026, 11, 23, tzinfo=UTC) + timedelta(hours=hours)
    ),
)
Policy = tuple[str, str, str, str, str]


def _engine(policy_set: list[Policy]) -> PolicyEngine:
    sources = [
        PolicySource(
            f"p{i}",
            Scope("platform"),
            f'@id("p{i}")\n{effect} ({principal}, {action}, {resource}) {condition};',
        )
        for i, (effect, principal, action, resource, condition) in enumerate(policy_set)
    ]
    return PolicyEngine.build(WORLD, sources, version=1)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.lists(policies, min_size=1, max_size=6),
    extra=forbids,
    action=st.sampled_from(ACTIONS),
    context=contexts,
)
def test_adding_a_forbid_never_turns_a_deny_into_an_allow(
    base: list[Policy], extra: Policy, action: str, context: CallContext
) -> None:
    without, with_forbid = _engine(base), _engine([*base, extra])
    for agent in (a.name for a in WORLD.agents):
        before = without.authorize(agent, action, MODELS, context)
        after = with_forbid.authorize(agent, action, MODELS, context)
        for old, new in zip(before, after, strict=True):
            assert old.allowed or not new.allowed, (agent, old, new)
            assert new.allowed == (new.outcome == "allow")
            assert not (new.allowed and new.errors)
