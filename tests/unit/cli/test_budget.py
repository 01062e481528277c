"""`dome budget ...`: what is sent for each command, what is printed, and bad arguments
that send nothing (the admin API's side is in tests/integration/test_budget_admin.py)."""

from __future__ import annotations

import json

import httpx
import pytest

from .fake_admin import NOW, FakeAdminApi, Record, error, listing
from .harness import Dome, assert_exit

KEY = ("scope_kind", "scope_name", "metric", "period")


class BudgetAdminApi(FakeAdminApi):
    """The fake admin API plus `/admin/v1/budgets` (docs/admin-api.md, "Budgets")."""

    def __init__(self) -> None:
        super().__init__()
        self.budgets: dict[tuple[object, ...], Record] = {}

    def _route(self, request: httpx.Request, parts: list[str], body: Record) -> httpx.Response:
        params = dict(request.url.params)
        match request.method, parts:
            case "PUT", ["budgets"]:
                key = tuple(body.get(field) for field in KEY)
                record = {**body, "id": ":".join(map(str, key)), "limit": str(body["limit"])}
                self.budgets[key] = {**record, "created_at": NOW, "updated_at": NOW}
                return httpx.Response(200, json=self.budgets[key])
            case "GET", ["budgets"]:
                return listing(
                    row
                    for row in self.budgets.values()
                    if all(row[field] == value for field, value in params.items())
                )
            case "DELETE", ["budgets"]:
                if self.budgets.pop(tuple(params.get(field) for field in KEY), None) is None:
                    return error(404, "not_found_error", "agent 'p' has no tokens budget per day")
                return httpx.Response(204)
            case "GET", ["budgets", "status"]:
                return httpx.Response(200, json={"agent": params["agent"], "data": self.status()})
        return super()._route(request, parts, body)

    def status(self) -> list[Record]:
        return [
            {
                **row,
                "used": "0",
                "reserved": "0",
                "remaining": row["limit"],
                "resets_at": None if row["period"] == "total" else NOW,
            }
            for row in self.budgets.values()
        ]


@pytest.fixture
def api() -> FakeAdminApi:
    return BudgetAdminApi()


def sent(api: FakeAdminApi) -> tuple[str, str, object]:
    request = api.requests[-1]
    body = json.loads(request.content) if request.content else None
    return request.method, request.url.raw_path.decode(), body


def test_set_tokens_sends_a_whole_number(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(
        "budget", "set", "--agent", "planner", "--tokens", "100000", "--period", "day"
    )

    assert_exit(result, 0)
    assert sent(api) == (
        "PUT",
        "/admin/v1/budgets",
        {
            "scope_kind": "agent",
            "scope_name": "planner",
            "metric": "tokens",
            "period": "day",
            "limit": 100000,
        },
    )
    assert result.stdout.splitlines() == [
        "SCOPE  NAME     METRIC  PERIOD  LIMIT   UPDATED",
        "agent  planner  tokens  day     100000  2026-05-09 07:35:25",
    ]


def test_set_usd_sends_the_amount_as_text(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(
        "budget", "set", "--tenant", "acme", "--usd", "12.50", "--period", "month", "-o", "json"
    )

    assert_exit(result, 0)
    assert sent(api)[2] == {
        "scope_kind": "tenant",
        "scope_name": "acme",
        "metric": "usd",
        "period": "month",
        "limit": "12.50",  # never a float
    }
    assert json.loads(result.stdout)["id"] == "tenant:acme:usd:month"


def test_list_filters_by_one_scope_in_the_query(dome: Dome, api: FakeAdminApi) -> None:
    dome.run("budget", "set", "--workspace", "ws/a b", "--tokens", "5", "--period", "week")
    dome.run("budget", "set", "--agent", "p", "--tokens", "5", "--period", "week")

    everything = dome.run("budget", "list", "-o", "json")
    assert sent(api) == ("GET", "/admin/v1/budgets", None)
    only = dome.run("budget", "list", "--workspace", "ws/a b")

    assert_exit(only, 0)
    assert sent(api)[1] == "/admin/v1/budgets?scope_kind=workspace&scope_name=ws%2Fa+b"
    assert len(json.loads(everything.stdout)) == 2
    assert only.stdout.splitlines()[1].split()[:3] == ["workspace", "ws/a", "b"]


def test_list_without_budgets_says_so(dome: Dome) -> None:
    result = dome.run("budget", "list")

    assert_exit(result, 0)
    assert result.stdout == "no budgets\n"


def test_remove_names_the_budget_in_the_query(dome: Dome, api: FakeAdminApi) -> None:
    dome.run("budget", "set", "--agent", "p", "--usd", "1", "--period", "total")

    result = dome.run("budget", "remove", "--agent", "p", "--usd", "--period", "total")

    assert_exit(result, 0)
    assert sent(api) == (
        "DELETE",
        "/admin/v1/budgets?scope_kind=agent&scope_name=p&metric=usd&period=total",
        None,
    )
    assert result.stdout == "removed the usd budget in total of agent p\n"
    missing = dome.run("budget", "remove", "--agent", "p", "--tokens", "--period", "day")
    assert_exit(missing, 1)
    assert missing.stderr == "error: agent 'p' has no tokens budget per day\n"


def test_status_prints_the_ceilings(dome: Dome, api: FakeAdminApi) -> None:
    dome.run("budget", "set", "--agent", "p", "--tokens", "900", "--period", "hour")
    dome.run("budget", "set", "--tenant", "t", "--usd", "2.50", "--period", "total")

    result = dome.run("budget", "status", "--agent", "p")

    assert_exit(result, 0)
    assert sent(api)[1] == "/admin/v1/budgets/status?agent=p"
    assert result.stdout.splitlines() == [
        "SCOPE   NAME  METRIC  PERIOD  LIMIT  USED  RESERVED  REMAINING  RESETS AT",
        "agent   p     tokens  hour    900    0     0         900        2026-05-09 07:35:25",
        "tenant  t     usd     total   2.50   0     0         2.50       -",
    ]


def test_status_without_ceilings_says_so(dome: Dome) -> None:
    result = dome.run("budget", "status", "--agent", "p")

    assert_exit(result, 0)
    assert result.stdout == "no budgets apply to agent p\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set", "--agent", "p", "--tokens", "5", "--usd", "1", "--period", "day"), "exactly one"),
        (("set", "--agent", "p", "--period", "day"), "--tokens N and --usd AMOUNT"),
        (("set", "--agent", "p", "--tokens", "-5", "--period", "day"), "whole number"),
        (("set", "--agent", "p", "--tokens", " ", "--period", "day"), "whole number"),
        (("set", "--agent", "p", "--tokens", "9007199254740992", "--period", "day"), "from 1"),
        (("set", "--agent", "p", "--usd", "-0.5", "--period", "day"), "amount of USD"),
        (("set", "--agent", "p", "--usd", "NaN", "--period", "day"), "amount of USD"),
        (("set", "--agent", "p", "--usd", "9007200", "--period", "day"), "amount of USD"),
        (("set", "--tokens", "5", "--period", "day"), "exactly one of --agent"),
        (("set", "--workspace", "w", "--tenant", "t", "--tokens", "5", "--period", "day"), "one"),
        (("set", "--agent", "p", "--tokens", "5"), "--period"),
        (("set", "--agent", "p", "--tokens", "5", "--period", "fortnight"), "fortnight"),
        (("remove", "--agent", "p", "--period", "day"), "--tokens or --usd"),
        (("remove", "--tokens", "--period", "day"), "exactly one of --agent"),
        (("list", "--agent", "p", "--tenant", "t"), "exactly one of --agent"),
        (("status",), "--agent"),
    ],
)
def test_bad_arguments_are_usage_errors_and_send_nothing(
    dome: Dome, api: FakeAdminApi, args: tuple[str, ...], message: str
) -> None:
    result = dome.run("budget", *args)

    assert_exit(result, 2)
    assert message in result.stderr
    assert api.requests == []
