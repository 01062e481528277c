"""`POST /admin/v1/route/explain`: where a call would go, and why, without calling.

The same choices a call makes (pool selection, strategy order, region pin, policy,
member health), read from this process's state; health is read without taking a probe.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dome.errors import InvalidRequestError, NotFoundError
from dome.policy import CallContext
from dome.routing.explain import exclusion_reasons, explain_route
from dome.server.admin_http import (
    Handler,
    json_response,
    optional_count,
    optional_text,
    read_body,
    required_text,
)
from dome.server.authorization import ACTIONS, classification_for
from dome.server.route_plan import choose, ordered_members, region_pin
from dome.wire.facts import RequestFacts

if TYPE_CHECKING:
    from dome.server.runtime import Runtime

_FORMATS = ("openai", "anthropic")


async def explain(request: Request, runtime: Runtime) -> Response:
    body = await read_body(request)
    agent_name, model = required_text(body, "agent"), required_text(body, "model")
    routes = runtime.routes
    snapshot = routes.snapshot
    agent = runtime.agent_named(agent_name)
    fmt = optional_text(body, "format") or "openai"
    if fmt not in _FORMATS:
        raise InvalidRequestError("format: openai or anthropic", param="format")
    tokens = optional_count(body, "tokens")
    facts = RequestFacts(
        format="anthropic" if fmt == "anthropic" else "openai",
        operation="messages" if fmt == "anthropic" else "chat",
        model=model,
        stream=body.get("stream") is True,
        max_output_tokens=tokens or None,
        include_usage=False,
    )
    context = CallContext(
        requested_model=model,
        classification=classification_for(runtime, agent, optional_text(body, "classification")),
        region=optional_text(body, "region") or runtime.settings.region,
        estimated_tokens=tokens,
        stream=facts.stream,
        format=fmt,
        now=datetime.now(UTC),
    )
    choice, named = choose(routes, agent, facts, context)
    if choice.pool is not None:
        # The weighted strategy draws per call; a fixed draw shows one possible order.
        draw = random.Random(0)  # noqa: S311 - an example order, not a secret
        ordered = ordered_members(routes, choice.pool, facts, 0, step=0, rng=draw)
    elif named is not None:
        ordered = (named.name,)
    else:
        raise NotFoundError(f"model {model!r} is neither a pool, matched by one, nor an entry")
    decisions = routes.policy.decide(
        agent.name, ACTIONS[facts.operation], list(ordered), context.to_cedar()
    )
    denied = {d.resource: d.policy_ids for d in decisions if not d.allowed}
    pin = region_pin(routes, agent)
    regions = {name: snapshot.models[name].region for name in ordered if name in snapshot.models}
    exclusions = exclusion_reasons(
        ordered, denied=denied, regions=regions, pin=pin, health=runtime.health
    )
    explanation = explain_route(
        requested=model,
        agent=agent.name,
        choice=choice,
        ordered=ordered,
        exclusions=exclusions,
        pin=pin,
    )
    return json_response({**explanation.to_json(), "text": explanation.render()})


def route_routes(
    prefix: str, bind: Callable[[Handler], Callable[[Request], Awaitable[Response]]]
) -> list[Route]:
    return [Route(f"{prefix}/route/explain", bind(explain), methods=["POST"])]
