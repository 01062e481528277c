"""Where a call may go: a pool's members in strategy order, or the one entry it names.

Pools take the call when one matches (or is named); otherwise the model name resolves
to an entry by name or provider id. A region pin then removes every candidate outside
the pinned region: a pinned call is never served elsewhere, not even by failover.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dome.errors import NotFoundError, PermissionDeniedError
from dome.policy.context import CallContext
from dome.routing.cascade import RetryTracker, fingerprint
from dome.routing.match import RequestAttributes
from dome.routing.pools import Pool, PoolChoice, select_pool
from dome.routing.region import effective_pin, in_region
from dome.routing.strategies import ModelPrice, TokenEstimate, order_members
from dome.server.asgi import Scope, header
from dome.server.authorization import input_estimate
from dome.spend.pricing import price_sheet
from dome.store.snapshot import Agent, ModelEntry

if TYPE_CHECKING:
    from dome.server.runtime import Routes
    from dome.wire.facts import RequestFacts

_RETRY_COUNT = b"x-stainless-retry-count"
_IDEMPOTENCY_KEY = b"idempotency-key"


@dataclass(frozen=True, slots=True)
class RoutePlan:
    pool: Pool | None
    why: str
    candidates: tuple[ModelEntry, ...]  # in the order they will be tried
    requested: ModelEntry | None  # the entry the agent named, when a pool took the call
    pin: str | None  # the region pin that applied, if any
    pinned_out: tuple[str, ...] = ()  # candidates the pin removed

    def pin_note(self) -> str | None:
        """What to tell a pinned agent when every member in its region failed."""
        if self.pin is None or not self.pinned_out:
            return None
        outside = ", ".join(self.pinned_out)
        return f"this agent is pinned to region {self.pin!r}; not tried outside it: {outside}"


def plan_route(
    routes: Routes,
    scope: Scope,
    agent: Agent,
    facts: RequestFacts,
    context: CallContext,
    raw: bytes,
    *,
    rng: random.Random,
    retries: RetryTracker,
) -> RoutePlan:
    snapshot = routes.snapshot
    choice, named = choose(routes, agent, facts, context)
    pool = choice.pool
    if pool is None:
        if named is None:
            msg = f"model {facts.model!r} is not configured on this broker"
            raise NotFoundError(msg, param="model")
        candidates: tuple[ModelEntry, ...] = (named,)
        why = f"model entry {named.name}"
    else:
        step = 0
        if pool.strategy == "cascade":
            step = retries.step(
                agent.name,
                retry_count=_retry_count(scope),
                idempotency_key=_text(header(scope, _IDEMPOTENCY_KEY)),
                fingerprint=fingerprint(raw),
            )
        order = ordered_members(routes, pool, facts, len(raw), step=step, rng=rng)
        candidates = tuple(snapshot.models[name] for name in order if name in snapshot.models)
        why = choice.why
    pin = region_pin(routes, agent)
    pinned_out: tuple[str, ...] = ()
    if pin is not None:
        pinned = tuple(entry for entry in candidates if in_region(entry.region, pin))
        if not pinned:
            where = f"pool {pool.name}" if pool else f"model {candidates[0].name}"
            msg = (
                f"this agent is pinned to region {pin!r}, and {where} has no model in it; "
                "the call is not served elsewhere"
            )
            raise PermissionDeniedError(msg)
        pinned_out = tuple(e.name for e in candidates if e not in pinned)
        candidates = pinned
    requested = named if pool is not None and named is not None else None
    return RoutePlan(pool, why, candidates, requested, pin, pinned_out)


def choose(
    routes: Routes, agent: Agent, facts: RequestFacts, context: CallContext
) -> tuple[PoolChoice, ModelEntry | None]:
    """The pool that takes the call (if any), and the entry the model name names (if any)."""
    snapshot = routes.snapshot
    attrs = RequestAttributes(
        model=facts.model,
        format=facts.format,
        stream=facts.stream,
        classification=context.classification.label,
        agent=agent.name,
        workspace=agent.workspace,
        tenant=agent.tenant,
        region=context.region,
    )
    named = snapshot.models.get(facts.model) or routes.by_provider_model.get(facts.model)
    return select_pool(routes.pools, attrs, requested=facts.model), named


def ordered_members(
    routes: Routes,
    pool: Pool,
    facts: RequestFacts,
    body_size: int,
    *,
    step: int,
    rng: random.Random,
) -> tuple[str, ...]:
    """The pool's members in the order its strategy tries them for this request."""
    models = routes.snapshot.models
    return order_members(
        pool,
        rng=rng,
        prices={m.model: _price(models.get(m.model)) for m in pool.members},
        estimate=TokenEstimate(input_estimate(body_size), facts.max_output_tokens or 0),
        cascade_step=step,
    )


def region_pin(routes: Routes, agent: Agent) -> str | None:
    """The agent's region pin: its workspace's, else its tenant's."""
    snapshot = routes.snapshot
    workspace = snapshot.workspaces.get(agent.workspace)
    return effective_pin(
        snapshot.tenant_regions.get(agent.tenant), workspace.region if workspace else None
    )


def _price(entry: ModelEntry | None) -> ModelPrice | None:
    """The entry's list price: the operator's override, else the catalog's (the base
    rates, below any long-context tier); None when unpriced."""
    if entry is None:
        return None
    sheet = price_sheet(entry.provider, entry.model, entry.input_price, entry.output_price)
    return None if sheet is None else ModelPrice(sheet.input, sheet.output)


def _retry_count(scope: Scope) -> int | None:
    value = _text(header(scope, _RETRY_COUNT))
    if value is None or not value.isdigit():
        return None
    return int(value)


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1").strip() if value else None
