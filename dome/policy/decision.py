"""One authorization decision, and the sentence an agent reads when it is a denial."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

# allow: a permit matched and nothing failed. forbid: a forbid matched. no_permit: Cedar's
# default deny. error: the decision cannot be trusted (evaluation or input errors).
Outcome = Literal["allow", "forbid", "no_permit", "error"]

ACTIONS: Final = ("invoke", "embed", "count_tokens", "list_models")
_VERBS: Final[Mapping[str, str]] = {
    "invoke": "invoke",
    "embed": "embed with",
    "count_tokens": "count tokens with",
    "list_models": "list",
}


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    policy_ids: tuple[str, ...]  # the deciding policies' ids, sorted
    reasons: tuple[str, ...]  # their `@reason` texts, in the order of `policy_ids`
    errors: tuple[str, ...]
    resource: str  # the Model entry name
    outcome: Outcome


def denied(resource: str, error: str) -> Decision:
    """A denial that never reached Cedar (unknown agent, model or action)."""
    return Decision(
        allowed=False,
        policy_ids=(),
        reasons=(),
        errors=(error,),
        resource=resource,
        outcome="error",
    )


def explain(decision: Decision, agent: str, action: str, resource: str) -> str:
    """What the agent is told (and the audit record keeps) about `decision`."""
    ids = ", ".join(decision.policy_ids)
    policies = "policy" if len(decision.policy_ids) == 1 else "policies"
    if decision.outcome == "allow":
        return f"allowed by {policies} {ids}"
    if decision.outcome == "forbid":
        text = f"denied by {policies} {ids}"
        return f"{text}: {'; '.join(decision.reasons)}" if decision.reasons else text
    if decision.outcome == "no_permit":
        verb = _VERBS.get(action, action)
        return f'no policy permits agent "{agent}" to {verb} model "{resource}"'
    return f"denied: policy evaluation failed ({'; '.join(decision.errors)})"
