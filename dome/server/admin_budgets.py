"""The budgets part of the admin API: set, list and remove ceilings, and an agent's
status against every ceiling in its scope (docs/budgets.md).

What a request names is validated here, before anything is stored, and every message
names the field at fault. Limits are Decimal text or integers, never JSON floats.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dome.errors import InvalidRequestError, NotFoundError
from dome.server.admin_http import Handler, json_response, read_body
from dome.server.views import iso
from dome.spend.budgets import CeilingStatus
from dome.spend.ceilings import MAX_UNITS, METRICS, PERIODS, SCOPE_KINDS, Metric, Period, ScopeKind
from dome.store import BudgetRow
from dome.store.records import USD_PLACES, budget_limit_problem, decimal_places

if TYPE_CHECKING:
    from dome.server.runtime import Runtime

T = TypeVar("T", bound=str)

KEY_FIELDS: Final = frozenset({"scope_kind", "scope_name", "metric", "period"})
BUDGET_FIELDS: Final = KEY_FIELDS | {"limit"}
LIST_FILTERS: Final = frozenset({"scope_kind", "scope_name"})
_MAX_NAME = 128
_MAX_LIMIT_CHARS = 40
_TOKENS = re.compile(r"[0-9]+")
_USD = re.compile(r"[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True, slots=True)
class BudgetKey:
    """What identifies a budget: one per scope, metric and period."""

    scope_kind: ScopeKind
    scope_name: str
    metric: Metric
    period: Period


async def set_budget(request: Request, runtime: Runtime) -> Response:
    """Add the budget, or change its limit (what its window used stays counted)."""
    body = await read_body(request)
    _reject_unknown(body, BUDGET_FIELDS)
    key = read_budget_key(body)
    limit = read_limit(key.metric, body.get("limit"))
    row = await runtime.store.set_budget(
        key.scope_kind, key.scope_name, key.metric, key.period, limit
    )
    await runtime.reload()
    return json_response(budget_view(row))


async def list_budgets(request: Request, runtime: Runtime) -> Response:
    query = dict(request.query_params)
    _reject_unknown(query, LIST_FILTERS)
    kind = query.get("scope_kind")
    scope_kind = None if kind is None else _one_of(SCOPE_KINDS, "scope_kind", kind)
    scope_name = _optional_name(query, "scope_name")
    if scope_name is not None and scope_kind is None:
        raise InvalidRequestError("scope_kind: required with scope_name", param="scope_kind")
    rows = await runtime.store.list_budgets(scope_kind, scope_name)
    return json_response({"data": [budget_view(row) for row in rows]})


async def remove_budget(request: Request, runtime: Runtime) -> Response:
    """Identified by a JSON body, or, without one, by the query string."""
    raw = await request.body()
    fields: dict[str, Any] = await read_body(request) if raw.strip() else dict(request.query_params)
    _reject_unknown(fields, KEY_FIELDS)
    key = read_budget_key(fields)
    await runtime.store.remove_budget(key.scope_kind, key.scope_name, key.metric, key.period)
    await runtime.reload()
    return Response(status_code=204)


async def budget_status(request: Request, runtime: Runtime) -> Response:
    """The agent's ceilings as this process enforces them (its snapshot), each with its
    current window read from the counters; a revoked agent's too."""
    query = dict(request.query_params)
    _reject_unknown(query, {"agent"})
    agent = _optional_name(query, "agent")
    if agent is None:
        raise InvalidRequestError("agent: field required", param="agent")
    snapshot = runtime.snapshot
    if agent not in snapshot.agent_ceilings:
        raise NotFoundError(f"agent {agent!r} not found")
    statuses = await runtime.budgets.status(snapshot.ceilings_for(agent))
    return json_response({"agent": agent, "data": [status_view(s) for s in statuses]})


def read_budget_key(fields: Mapping[str, Any]) -> BudgetKey:
    for field in ("scope_kind", "scope_name", "metric", "period"):
        if fields.get(field) is None:
            raise InvalidRequestError(f"{field}: field required", param=field)
    scope_name = _optional_name(fields, "scope_name")
    return BudgetKey(
        scope_kind=_one_of(SCOPE_KINDS, "scope_kind", fields["scope_kind"]),
        scope_name=scope_name or "",
        metric=_one_of(METRICS, "metric", fields["metric"]),
        period=_one_of(PERIODS, "period", fields["period"]),
    )


def read_limit(metric: Metric, value: object) -> Decimal:
    """A limit: whole tokens, or USD with at most 9 decimal places; above zero and at
    most `MAX_UNITS` counter units. A JSON string or integer: floats round."""
    if value is None:
        raise InvalidRequestError("limit: field required", param="limit")
    if metric == "tokens":
        rule = f"a whole number of tokens from 1 to {MAX_UNITS}"
        pattern = _TOKENS
    else:
        rule = f'a decimal string of USD such as "5.00", above 0, at most {USD_PLACES} places'
        pattern = _USD
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidRequestError(f"limit: expected {rule}", param="limit")
    text = str(value).strip()
    if len(text) > _MAX_LIMIT_CHARS or not pattern.fullmatch(text):
        shown = text[:_MAX_LIMIT_CHARS]
        raise InvalidRequestError(f"limit: {shown!r} is not {rule}", param="limit")
    limit = Decimal(text)
    problem = budget_limit_problem(metric, limit)
    if problem is not None:
        raise InvalidRequestError(f"limit: {text} {problem}", param="limit")
    return limit


def budget_view(row: BudgetRow) -> dict[str, Any]:
    return {
        "id": f"{row.scope_kind}:{row.scope_name}:{row.metric}:{row.period}",
        "scope_kind": row.scope_kind,
        "scope_name": row.scope_name,
        "metric": row.metric,
        "period": row.period,
        "limit": decimal_text(row.limit),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def status_view(status: CeilingStatus) -> dict[str, Any]:
    ceiling = status.ceiling
    return {
        "id": ceiling.id,
        "scope_kind": ceiling.scope_kind,
        "scope_name": ceiling.scope_name,
        "metric": ceiling.metric,
        "period": ceiling.period,
        "limit": decimal_text(ceiling.limit),
        "used": _like_limit(status.used, ceiling.limit),
        "reserved": _like_limit(status.reserved, ceiling.limit),
        "remaining": _like_limit(status.remaining, ceiling.limit),
        "resets_at": iso(status.resets_at),
    }


def decimal_text(value: Decimal) -> str:
    """Plain notation (never "1E-7"), as many places as the value was given with."""
    return format(value, "f")


def _like_limit(amount: Decimal, limit: Decimal) -> str:
    """`amount` with as many decimal places as the limit was given with ("25.00" ->
    "0.00"), or more when it needs them; never rounded."""
    places = max(decimal_places(amount), _places_given(limit))
    return decimal_text(amount.quantize(Decimal(1).scaleb(-places)))


def _places_given(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def budget_routes(
    prefix: str, bind: Callable[[Handler], Callable[[Request], Awaitable[Response]]]
) -> list[Route]:
    budgets = f"{prefix}/budgets"
    return [
        Route(f"{budgets}/status", bind(budget_status), methods=["GET"]),
        Route(budgets, bind(set_budget), methods=["PUT"]),
        Route(budgets, bind(list_budgets), methods=["GET"]),
        Route(budgets, bind(remove_budget), methods=["DELETE"]),
    ]


def _reject_unknown(fields: Mapping[str, object], allowed: Iterable[str]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise InvalidRequestError(f"{unknown[0]}: unknown field", param=unknown[0])


def _optional_name(fields: Mapping[str, Any], field: str) -> str | None:
    value = fields.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > _MAX_NAME:
        msg = f"{field}: expected the name of an agent, workspace or tenant"
        raise InvalidRequestError(msg, param=field)
    return value


def _one_of(known: tuple[T, ...], field: str, value: object) -> T:
    for candidate in known:
        if value == candidate:
            return candidate
    raise InvalidRequestError(f"{field}: must be one of {', '.join(known)}", param=field)
