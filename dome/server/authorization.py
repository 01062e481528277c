"""The policy step of a call: who asks, for which models, with what data; Cedar decides.

Runs after authentication and model resolution, before any provider is touched. Reads
memory only: the engine's handles are built off the hot path when config changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from dome.errors import InvalidRequestError, PolicyDeniedError
from dome.policy.classification import Classification, resolve_classification
from dome.policy.context import CallContext
from dome.server.asgi import Scope, header
from dome.wire.formats import Operation

if TYPE_CHECKING:
    from dome.server.runtime import Runtime
    from dome.server.trace import CallTrace
    from dome.store.snapshot import Agent
    from dome.wire.facts import RequestFacts

ACTIONS = MappingProxyType(
    {"chat": "invoke", "messages": "invoke", "embeddings": "embed", "count_tokens": "count_tokens"}
)
"""The Cedar action of each operation (schema.cedarschema)."""

CLASSIFICATION_HEADER = b"x-dome-classification"
REGION_HEADER = b"x-dome-region"
_REGION = re.compile(r"[a-z0-9-]{1,32}")

# The output a call may produce when it states no maximum: the reserve its estimate
# holds (docs/policy.md, "estimated_tokens").
DEFAULT_OUTPUT_RESERVE = 4096
BYTES_PER_TOKEN = 4


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """What the audit keeps of a decision, enough to replay it."""

    allowed: bool
    policy_ids: tuple[str, ...]
    version: int
    request: dict[str, object]  # principal, action, resource and the exact context


def call_context(
    runtime: Runtime,
    scope: Scope,
    agent: Agent,
    facts: RequestFacts,
    *,
    body_size: int,
    now: datetime | None = None,
) -> CallContext:
    """The call's facts for Cedar; a bad classification or region header is a 400."""
    declared = header(scope, CLASSIFICATION_HEADER)
    classification = classification_for(
        runtime, agent, declared.decode("latin-1") if declared is not None else None
    )
    return CallContext(
        requested_model=facts.model,
        classification=classification,
        region=_region(scope, runtime.settings.region),
        estimated_tokens=estimated_tokens(facts, body_size),
        stream=facts.stream,
        format=facts.format,
        now=now or datetime.now(UTC),
    )


def classification_for(runtime: Runtime, agent: Agent, declared: str | None) -> Classification:
    """The classification a call carries: declared, else a default, never below a floor."""
    workspace = runtime.snapshot.workspaces.get(agent.workspace)
    return resolve_classification(
        declared,
        agent_default=agent.classification_default,
        agent_floor=agent.classification_floor,
        workspace_default=workspace.classification_default if workspace else None,
        workspace_floor=workspace.classification_floor if workspace else None,
    )


def estimated_tokens(facts: RequestFacts, body_size: int) -> int:
    """Input (the body at 4 bytes a token) plus the most output the call may produce."""
    return input_estimate(body_size) + output_reserve(facts)


def input_estimate(body_size: int) -> int:
    """The request's input tokens, from its size alone."""
    return body_size // BYTES_PER_TOKEN


def output_reserve(facts: RequestFacts) -> int:
    """The most output a call may produce: its maximum, else `DEFAULT_OUTPUT_RESERVE`;
    none for operations that produce no tokens (embeddings, count_tokens)."""
    if facts.operation in {"chat", "messages"}:
        return facts.max_output_tokens or DEFAULT_OUTPUT_RESERVE
    return 0


def _region(scope: Scope, default: str) -> str:
    value = header(scope, REGION_HEADER)
    if value is None:
        return default
    region = value.decode("latin-1").strip().lower()
    if not _REGION.fullmatch(region):
        msg = "X-Dome-Region: expected a region name such as 'eu-west-1'"
        raise InvalidRequestError(msg, param="X-Dome-Region")
    return region


def authorize(
    runtime: Runtime,
    trace: CallTrace,
    agent: Agent,
    operation: Operation,
    candidates: Sequence[str],
    context: CallContext,
    *,
    requested: str | None = None,
) -> tuple[str, ...]:
    """The candidates policy allows, in order; all decided in one Cedar batch.

    `requested` is the model entry the agent named when it is not itself a candidate
    (a pool took the call): it must be allowed too, so routing never gets around a
    forbid on what the agent asked for. Raises PolicyDeniedError when nothing is left.
    """
    engine = runtime.routes.policy
    action = ACTIONS[operation]
    resources = [*candidates] if requested is None else [requested, *candidates]
    cedar_context = context.to_cedar()  # once: Cedar reads it, the audit keeps it
    decisions = engine.decide(agent.name, action, resources, cedar_context)
    candidate_decisions = decisions[len(resources) - len(candidates) :]
    allowed = tuple(d.resource for d in candidate_decisions if d.allowed)
    refused = requested is not None and not decisions[0].allowed
    if refused:
        chosen = decisions[0]  # the model the agent asked for is itself forbidden
    elif not allowed:
        chosen = candidate_decisions[0]
    else:
        chosen = next(d for d in candidate_decisions if d.allowed)
    denied = refused or not allowed
    trace.policy = DecisionRecord(
        allowed=not denied,
        policy_ids=chosen.policy_ids,
        version=engine.version,
        request={
            "principal": agent.name,
            "action": action,
            "resource": chosen.resource,
            "context": cedar_context,
        },
    )
    if denied:
        message = engine.explain(chosen, agent.name, action, chosen.resource)
        raise PolicyDeniedError(message, policy_ids=chosen.policy_ids)
    return allowed
