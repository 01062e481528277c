"""The audit questions of the admin API: calls by any dimension, one call's records,
spend grouped by a dimension, and verification of the hash chains (docs/audit.md).

    GET  /admin/v1/audit/calls?agent=&workspace=&tenant=&model=&provider=&pool=
                              &outcome=&decision=&since=&until=&limit=
    GET  /admin/v1/audit/calls/{call_id}
    GET  /admin/v1/spend?by=agent|workspace|tenant|model|provider|pool&since=&until=...
    POST /admin/v1/audit/verify
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dome.audit import ChainVerifier
from dome.errors import InvalidRequestError, NotFoundError
from dome.server.admin_http import Handler, json_response
from dome.server.views import audit_view, iso
from dome.store import SPEND_DIMENSIONS, CallFilter

if TYPE_CHECKING:
    from dome.server.runtime import Runtime

_FILTERS = ("agent", "workspace", "tenant", "model", "provider", "pool", "outcome", "decision")
_RELATIVE = re.compile(r"(\d{1,6})([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_VERIFY_PAGE = 5000
MAX_LIMIT = 10_000


async def query_calls(request: Request, runtime: Runtime) -> Response:
    where = call_filter(request)
    limit = _limit(request)
    rows = await runtime.store.query_calls(where, limit)
    return json_response({"data": [_call_view(row) for row in rows]})


async def show_call(request: Request, runtime: Runtime) -> Response:
    call_id = request.path_params["call_id"]
    records = await runtime.store.call_records(call_id)
    if not records:
        raise NotFoundError(f"no audit records for call {call_id!r}")
    return json_response({"call_id": call_id, "records": [audit_view(r) for r in records]})


async def spend(request: Request, runtime: Runtime) -> Response:
    by = request.query_params.get("by", "agent")
    if by not in SPEND_DIMENSIONS:
        choices = ", ".join(SPEND_DIMENSIONS)
        raise InvalidRequestError(f"by: expected one of {choices}", param="by")
    where = call_filter(request)
    lines = await runtime.store.spend_report(by, where)
    return json_response(
        {
            "by": by,
            "since": iso(where.since),
            "until": iso(where.until),
            "data": [
                {
                    by: line.key,
                    "calls": line.calls,
                    "ok": line.ok,
                    "denied": line.denied,
                    "failed": line.failed,
                    "input_tokens": line.input_tokens,
                    "output_tokens": line.output_tokens,
                    "total_tokens": line.total_tokens,
                    "cost_usd": _money(line.cost_usd),
                }
                for line in lines
            ],
        }
    )


async def verify_chains(_: Request, runtime: Runtime) -> Response:
    store = runtime.store
    verifier = ChainVerifier(runtime.audit.chain_key, await store.chain_heads())
    after: tuple[str, int] | None = None
    while True:  # pages in chain order, each checked as it arrives: memory is one page
        page = await store.chained_records(after, _VERIFY_PAGE)
        for stored in page:
            verifier.check(stored)
        if len(page) < _VERIFY_PAGE:
            break
        after = (page[-1].chain or "", page[-1].seq or 0)
    report = verifier.finish()
    unchained = await store.unchained_count()
    return json_response(
        {
            "ok": report.ok,
            "records": report.records + unchained,
            "chains": report.chains,
            "unchained": unchained,
            "findings": [
                {"chain": f.chain, "seq": f.seq, "record_id": f.record_id, "problem": f.problem}
                for f in report.findings
            ],
        }
    )


def call_filter(request: Request) -> CallFilter:
    params = request.query_params
    values: dict[str, Any] = {}
    for name in _FILTERS:
        value = params.get(name)
        if value is not None:
            if not value.strip():
                raise InvalidRequestError(f"{name}: expected a non-empty value", param=name)
            values[name] = value.strip()
    now = datetime.now(UTC)
    return CallFilter(
        **values,
        since=parse_time("since", params.get("since"), now),
        until=parse_time("until", params.get("until"), now),
    )


def parse_time(field: str, text: str | None, now: datetime) -> datetime | None:
    """An ISO 8601 instant (UTC when it names no offset), or a span back from now such
    as 30m, 24h, 7d, 2w."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    relative = _RELATIVE.fullmatch(text)
    if relative is not None:
        amount, unit = int(relative.group(1)), _UNITS[relative.group(2)]
        return now - timedelta(**{unit: amount})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        msg = f"{field}: expected an ISO 8601 time or a span such as 24h or 7d, got {text!r}"
        raise InvalidRequestError(msg, param=field) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _limit(request: Request) -> int:
    text = request.query_params.get("limit", "100")
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        msg = f"limit: expected an integer from 1 to {MAX_LIMIT}"
        raise InvalidRequestError(msg, param="limit")
    return int(text)


def _call_view(row: dict[str, Any]) -> dict[str, Any]:
    view = dict(row)
    view["started_at"] = iso(row["started_at"])
    return view


def _money(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def audit_routes(
    prefix: str, bind: Callable[[Handler], Callable[[Request], Awaitable[Response]]]
) -> list[Route]:
    return [
        Route(f"{prefix}/audit/calls", bind(query_calls), methods=["GET"]),
        Route(f"{prefix}/audit/calls/{{call_id}}", bind(show_call), methods=["GET"]),
        Route(f"{prefix}/audit/verify", bind(verify_chains), methods=["POST"]),
        Route(f"{prefix}/spend", bind(spend), methods=["GET"]),
    ]
