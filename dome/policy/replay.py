"""Dry run for `rules apply`: which recent audited decisions a new policy set would flip.

A decision is replayed from the exact Cedar context the audit record kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dome.policy.decision import Decision
from dome.policy.engine import PolicyEngine


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    agent: str
    action: str
    resource: str
    context: Mapping[str, object]  # the Cedar context exactly as it was sent
    allowed: bool
    call_id: str


@dataclass(frozen=True, slots=True)
class Flip:
    recorded: RecordedDecision
    now: Decision  # the decision under the new set; `now.allowed != recorded.allowed`


def flips(engine: PolicyEngine, recorded: Iterable[RecordedDecision]) -> list[Flip]:
    """The recorded decisions that `engine` decides the other way, in input order."""
    changed: list[Flip] = []
    for record in recorded:
        (decision,) = engine.decide(record.agent, record.action, [record.resource], record.context)
        if decision.allowed != record.allowed:
            changed.append(Flip(record, decision))
    return changed
