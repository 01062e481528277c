"""Routing decisions: match-when predicates, pools, strategies, region pins, failover,
member health and cascade steps. Pure: no I/O; clocks and randomness come in as arguments.

Per call the server builds `RequestAttributes`, picks a pool with `select_pool`, orders
its members with `order_members` (cascade step from `RetryTracker`), keeps those in the
region pin (`members_in_region`) and `MemberHealth.available`, and records each
`Attempt`. `explain_route` shows the same decision for `dome route explain`.
"""

from dome.routing.cascade import CascadeStep, RetrySignal, RetryTracker, fingerprint
from dome.routing.explain import (
    WILL_TRY,
    Candidate,
    RouteExplanation,
    exclusion_reasons,
    explain_route,
)
from dome.routing.failover import (
    ATTEMPT_OUTCOMES,
    MAX_RETRY_AFTER_SECONDS,
    Attempt,
    AttemptOutcome,
    classify_error_type,
    classify_status,
    describe_outcome,
    fails_over,
    is_member_failure,
    retry_after_seconds,
)
from dome.routing.health import MemberHealth
from dome.routing.match import (
    ATTRIBUTES,
    MatchWhen,
    RequestAttributes,
    describe_match,
    describe_mismatch,
    is_glob,
    matches,
    parse_match_when,
    specificity,
)
from dome.routing.pools import (
    DEFAULT_STRATEGY,
    STRATEGIES,
    ConsideredPool,
    Pool,
    PoolChoice,
    PoolMember,
    Strategy,
    parse_strategy,
    select_pool,
    validate_pools,
)
from dome.routing.region import (
    RegionPinError,
    effective_pin,
    in_region,
    members_in_region,
    region_pin_error,
)
from dome.routing.strategies import ModelPrice, TokenEstimate, expected_cost, order_members

__all__ = [
    "ATTEMPT_OUTCOMES",
    "ATTRIBUTES",
    "DEFAULT_STRATEGY",
    "MAX_RETRY_AFTER_SECONDS",
    "STRATEGIES",
    "WILL_TRY",
    "Attempt",
    "AttemptOutcome",
    "Candidate",
    "CascadeStep",
    "ConsideredPool",
    "MatchWhen",
    "MemberHealth",
    "ModelPrice",
    "Pool",
    "PoolChoice",
    "PoolMember",
    "RegionPinError",
    "RequestAttributes",
    "RetrySignal",
    "RetryTracker",
    "RouteExplanation",
    "Strategy",
    "TokenEstimate",
    "classify_error_type",
    "classify_status",
    "describe_match",
    "describe_mismatch",
    "describe_outcome",
    "effective_pin",
    "exclusion_reasons",
    "expected_cost",
    "explain_route",
    "fails_over",
    "fingerprint",
    "in_region",
    "is_glob",
    "is_member_failure",
    "matches",
    "members_in_region",
    "order_members",
    "parse_match_when",
    "parse_strategy",
    "region_pin_error",
    "retry_after_seconds",
    "select_pool",
    "specificity",
    "validate_pools",
]
