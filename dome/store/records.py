"""Rows of the operator config, the policy versions and the audit log, as frozen values.

The store reads and writes these; the snapshot is built from them. Secrets appear here
only as ciphertext (`bytes`), never in clear.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal, TypeVar

from dome.spend.ceilings import (
    MAX_UNITS,
    METRICS,
    PERIODS,
    SCOPE_KINDS,
    Metric,
    Period,
    ScopeKind,
    to_units,
)

AgentStatus = Literal["active", "revoked"]
T = TypeVar("T")


class Unset(enum.Enum):
    """The type of `UNSET`: "leave this field as it is" in an update."""

    UNSET = enum.auto()


UNSET: Final = Unset.UNSET


def given_or(value: T | Unset, default: T) -> T:
    """`value`, or `default` when it is `UNSET`."""
    return default if isinstance(value, Unset) else value


@dataclass(frozen=True, slots=True)
class TenantRow:
    name: str
    created_at: datetime
    region: str | None = None  # the region its calls are pinned to, e.g. "eu"


@dataclass(frozen=True, slots=True)
class WorkspaceRow:
    name: str
    tenant: str
    created_at: datetime
    residency: str = ""  # where its data must stay, e.g. "eu"; "" when unrestricted
    max_classification: str = "restricted"  # the highest level its calls may carry
    classification_default: str | None = None  # for calls that name none
    classification_floor: str | None = None  # calls are raised to at least this level
    region: str | None = None  # region pin; None: the tenant's


@dataclass(frozen=True, slots=True)
class AgentRow:
    name: str
    workspace: str
    token_hash: str  # hex keyed hash (HMAC-SHA256) of the Dome token
    token_prefix: str  # the first characters of the token, for humans to tell tokens apart
    status: AgentStatus
    created_at: datetime
    revoked_at: datetime | None = None
    labels: tuple[str, ...] = ()
    classification_default: str | None = None  # overrides the workspace's
    classification_floor: str | None = None


@dataclass(frozen=True, slots=True)
class ModelRow:
    name: str  # what agents ask for, e.g. "claude-sonnet-4-6" or an alias
    provider: str  # provider kind: openai | anthropic | openai-compatible | mock
    model: str  # the provider's own model id
    base_url: str | None
    auth_method: str  # api-key | none
    credential_type: str  # shared | none
    credential: bytes | None  # ciphertext (see dome.credentials), None when keyless
    options: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    region: str = ""  # where the provider serves it, e.g. "eu-west-1"; "" when unknown
    tier: str = "standard"  # e.g. "standard", "frontier", "cheap"
    family: str | None = None  # None: derived from `model` (see dome.store.snapshot)
    # USD per million tokens, as Decimal text (e.g. "3.00"); None when not priced.
    input_price: str | None = None
    output_price: str | None = None


@dataclass(frozen=True, slots=True)
class PoolMemberRow:
    model: str  # a model entry's name
    priority: int = 0  # lower goes first (priority and cascade strategies)
    weight: int = 1  # share of calls (weighted strategy), at least 1


@dataclass(frozen=True, slots=True)
class PoolRow:
    """A named group of model entries and the requests it serves.

    `match_when` is the normalized predicate as stored (attribute -> list of patterns);
    `members` are sorted by (priority, model).
    """

    name: str
    match_when: dict[str, list[str]]
    strategy: str = "priority"  # priority | weighted | cost | cascade
    order: int = 0  # breaks ties between equally specific pools, lower first
    members: tuple[PoolMemberRow, ...] = ()
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BudgetRow:
    """A ceiling an operator set: at most `limit` per `period` for one scope. `limit` is
    whole tokens, or USD (up to 9 decimal places: counters hold nano-USD)."""

    scope_kind: ScopeKind
    scope_name: str  # the agent, workspace or tenant it limits
    metric: Metric
    period: Period
    limit: Decimal
    created_at: datetime | None = None
    updated_at: datetime | None = None


def budget_order(row: BudgetRow) -> tuple[int, str, int, int]:
    """Agents, then workspaces, then tenants; by name; tokens before USD; shortest
    period first."""
    return (
        SCOPE_KINDS.index(row.scope_kind),
        row.scope_name,
        METRICS.index(row.metric),
        PERIODS.index(row.period),
    )


USD_PLACES: Final = 9  # a budget in USD is counted in nano-USD


def decimal_places(value: Decimal) -> int:
    """How many digits `value` has after the point, trailing zeros left out."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def budget_limit_problem(metric: Metric, limit: Decimal) -> str | None:
    """Why `limit` cannot be a ceiling of `metric`, or None when it can.

    A limit is finite and above zero, whole for tokens, at most nine decimal places
    for USD, and at most `MAX_UNITS` counter units (what the counters add exactly).
    """
    if not limit.is_finite() or limit <= 0:
        return "must be above zero"
    if metric == "tokens" and limit != limit.to_integral_value():
        return "must be a whole number of tokens"
    if metric == "usd" and decimal_places(limit) > USD_PLACES:
        return f"has more than {USD_PLACES} decimal places (counters hold nano-USD)"
    if to_units(metric, limit) > MAX_UNITS:
        return f"is over {MAX_UNITS} {'tokens' if metric == 'tokens' else 'nano-USD'}"
    return None


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """One Cedar policy as applied: its `@id`, the scope it was applied at (e.g.
    "tenant:acme"), its source text and the file it came from."""

    id: str
    scope: str
    text: str
    file: str


@dataclass(frozen=True, slots=True)
class PolicyVersionSummary:
    version: int
    created_at: datetime
    note: str  # what produced it, e.g. "apply rules.cedar at tenant:acme"
    count: int  # how many policies it holds
    digest: str


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One published policy set; the newest version is the one in force."""

    version: int
    created_at: datetime
    note: str
    policies: tuple[PolicyRecord, ...]
    digest: str  # sha256 of the policies' canonical JSON (see dome.store.policy_sql)


@dataclass(frozen=True, slots=True)
class ConfigRows:
    """Everything the snapshot is built from, read in one transaction."""

    version: int
    tenants: tuple[TenantRow, ...]
    workspaces: tuple[WorkspaceRow, ...]
    agents: tuple[AgentRow, ...]
    models: tuple[ModelRow, ...]
    policies: PolicyVersion | None = None  # the newest version, None before the first
    pools: tuple[PoolRow, ...] = ()  # by (order, name)
    budgets: tuple[BudgetRow, ...] = ()  # by scope (agent, workspace, tenant), name, ...


AuditKind = Literal["call_started", "attempt", "call"]


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One llm.* audit record (docs/audit.md): a call's start, one upstream attempt, or
    a call's end, by `kind`. The writer seals it into its hash chain (`SealedAuditRow`).
    """

    call_id: str
    started_at: datetime
    agent: str | None
    workspace: str | None
    tenant: str | None
    endpoint: str  # chat | messages | ...
    requested_model: str | None
    served_model: str | None
    model_entry: str | None
    provider: str | None
    format_in: str
    format_out: str | None
    stream: bool
    status: int  # 0 in a start record
    error_type: str | None
    latency_ms: float
    ttft_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    usage: dict[str, Any] | None  # usage exactly as the provider reported it
    decision: str | None = None  # "allow" | "deny"; None when no policy was evaluated
    policy_ids: list[str] | None = None  # the determining policies' ids, sorted
    policy_version: int | None = None  # the policy version that decided
    # The principal, action, resource and exact Cedar context of the decision, so it
    # can be replayed against another policy version.
    policy_context: dict[str, Any] | None = None
    # The call's upstream attempts in order, each {"model", "outcome", "status",
    # "latency_ms", "why"}; None when the call reached no upstream. (Each attempt also
    # has a record of its own, with its usage and cost.)
    attempts: list[dict[str, Any]] | None = None
    pool: str | None = None  # the pool that served the call, None without one
    kind: AuditKind = "call"
    attempt: int | None = None  # an attempt record's position in its call, from 1
    outcome: str | None = None  # see docs/audit.md; None in a start record
    region: str | None = None  # where the serving model runs, when known
    detail: str | None = None  # an attempt's "why"
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    total_tokens: int | None = None
    request_units: int | None = None
    usage_estimated: bool = False  # counted by the broker: the provider reported none
    cost_usd: str | None = None  # Decimal text
    cost_nano_usd: int | None = None
    budget: str | None = None  # admitted | denied | unavailable; None without ceilings
    budget_ceiling: str | None = None  # the ceiling that denied the call
    capture_ref: str | None = None


@dataclass(frozen=True, slots=True)
class SealedAuditRow:
    """A record with its place in a writer's hash chain: `hash` is SHA-256 over
    `prev_hash` and the record's canonical JSON (dome.audit.chain)."""

    row: AuditRow
    chain: str
    seq: int
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainedAuditRow:
    """A record as read back for verification; chain fields are None on rows copied
    from before the hash chain existed."""

    id: int
    row: AuditRow
    chain: str | None
    seq: int | None
    prev_hash: str | None
    hash: str | None
