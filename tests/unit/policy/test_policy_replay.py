"""Dry run: recorded decisions replayed against a new policy set; only the flips return."""

from __future__ import annotations

from dome.policy import RecordedDecision, flips

from .worlds import GRANT_CHEAP, context, engine

FORBID_MINI = """
@id("acme.no-mini")
@reason("mini is retired")
forbid (principal in Tenant::"acme", action, resource == Model::"mini");
"""


def test_flips_lists_only_the_decisions_that_change() -> None:
    recorded_context = context().to_cedar()
    before = engine(("tenant:acme", GRANT_CHEAP))
    records = [
        RecordedDecision(agent, "invoke", model, recorded_context, allowed, f"call-{i}")
        for i, (agent, model) in enumerate(
            [("planner", "haiku"), ("planner", "mini"), ("tinker", "gpt4o")]
        )
        for allowed in [before.decide(agent, "invoke", [model], recorded_context)[0].allowed]
    ]
    assert [r.allowed for r in records] == [True, True, False]
    assert flips(before, records) == []
    after = engine(("tenant:acme", GRANT_CHEAP + FORBID_MINI))
    (flip,) = flips(after, records)
    assert flip.recorded.call_id == "call-1"
    assert (flip.recorded.allowed, flip.now.allowed) == (True, False)
    assert flip.now.policy_ids == ("acme.no-mini",)


def test_a_record_whose_context_no_longer_fits_flips_to_a_denial_with_errors() -> None:
    stale = {**context().to_cedar(), "tier": "gold"}
    record = RecordedDecision("planner", "invoke", "haiku", stale, allowed=True, call_id="old")
    (flip,) = flips(engine(("tenant:acme", GRANT_CHEAP)), [record])
    assert flip.now.outcome == "error"
    assert "tier" in flip.now.errors[0]
