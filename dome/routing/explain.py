"""`dome route explain`: the route a call would take, and why, as data and as text.

Pure over what the server hands in (the pool choice, the ordered members, why some are
excluded); it decides nothing itself, so the explanation cannot drift from the route.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dome.routing.health import MemberHealth
from dome.routing.pools import PoolChoice
from dome.routing.region import in_region

WILL_TRY = "will try"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One member in the order the call would try it; `status` is `WILL_TRY` or the reason
    it is skipped ("outside region pin eu", "circuit open until ...", ...)."""

    model: str
    status: str

    @property
    def will_try(self) -> bool:
        return self.status == WILL_TRY


def exclusion_reasons(
    ordered: Sequence[str],
    *,
    denied: Mapping[str, tuple[str, ...]],
    regions: Mapping[str, str],
    pin: str | None,
    health: MemberHealth | None,
) -> dict[str, str]:
    """Why each excluded member of `ordered` would be skipped; members absent will be tried.

    `denied` maps a member model to the ids of the policies that forbid it (empty: the
    default deny). The first reason wins, in the order the call applies them: policy,
    region pin, health. Health is read with `MemberHealth.state`, which claims no probe.
    """
    reasons: dict[str, str] = {}
    for model in ordered:
        reason = _reason(model, denied=denied, regions=regions, pin=pin, health=health)
        if reason is not None:
            reasons[model] = reason
    return reasons


def _reason(
    model: str,
    *,
    denied: Mapping[str, tuple[str, ...]],
    regions: Mapping[str, str],
    pin: str | None,
    health: MemberHealth | None,
) -> str | None:
    if model in denied:
        policies = ", ".join(denied[model]) or "(default deny)"
        return f"denied by policy {policies}"
    if pin is not None and not in_region(regions.get(model, ""), pin):
        return f"outside region pin {pin}"
    state = "closed" if health is None else health.state(model)
    if state.startswith("open"):
        return f"circuit {state}"
    if state.startswith("retry-after"):
        return f"skipped: {state}"
    if state == "half-open (probe in flight)":
        return "skipped: circuit half-open, a probe is in flight"
    return None


@dataclass(frozen=True, slots=True)
class RouteExplanation:
    """The route for one (agent, model) pair: the pool choice and each candidate's fate."""

    requested: str
    agent: str | None
    choice: PoolChoice
    pin: str | None
    candidates: tuple[Candidate, ...]

    def to_json(self) -> dict[str, object]:
        """The explanation for the admin API."""
        pool = self.choice.pool
        return {
            "requested": self.requested,
            "agent": self.agent,
            "pool": None if pool is None else pool.name,
            "strategy": None if pool is None else pool.strategy,
            "why": self.choice.why,
            "considered": [
                {"name": c.name, "matched": c.matched, "why": c.why} for c in self.choice.considered
            ],
            "region_pin": self.pin,
            "candidates": [
                {"model": c.model, "status": c.status, "will_try": c.will_try}
                for c in self.candidates
            ],
        }

    def render(self) -> str:
        """The text `dome route explain` prints."""
        agent = f" (agent {self.agent})" if self.agent else ""
        lines = [f"route for model {self.requested}{agent}", self.choice.why]
        if self.choice.considered:
            width = max(len(c.name) for c in self.choice.considered)
            lines.append("pools considered:")
            lines.extend(f"  {c.name:<{width}}  {c.why}" for c in self.choice.considered)
        if self.choice.pool is not None:
            lines.append(f"strategy: {self.choice.pool.strategy}")
        lines.append(f"region pin: {self.pin}" if self.pin else "region pin: none")
        lines.extend(self._render_candidates())
        return "\n".join(lines) + "\n"

    def _render_candidates(self) -> list[str]:
        if not self.candidates:
            return ["candidates: none"]
        width = max(len(c.model) for c in self.candidates)
        lines = ["candidates, in order:"]
        lines.extend(
            f"  {index}. {c.model:<{width}}  {c.status}"
            for index, c in enumerate(self.candidates, start=1)
        )
        if not any(c.will_try for c in self.candidates):
            pinned = (
                f"; pinned to region {self.pin}, it is never served elsewhere" if self.pin else ""
            )
            lines.append(f"no candidate would be tried: the call fails{pinned}")
        return lines


def explain_route(
    *,
    requested: str,
    agent: str | None,
    choice: PoolChoice,
    ordered: Sequence[str],
    exclusions: Mapping[str, str],
    pin: str | None = None,
) -> RouteExplanation:
    """Assemble the explanation from the server's own routing inputs.

    `ordered` is the members in strategy order (for a direct model, just that model);
    `exclusions` maps a member to why it is skipped (see `exclusion_reasons`).
    """
    candidates = tuple(Candidate(model, exclusions.get(model, WILL_TRY)) for model in ordered)
    return RouteExplanation(
        requested=requested, agent=agent, choice=choice, pin=pin, candidates=candidates
    )
