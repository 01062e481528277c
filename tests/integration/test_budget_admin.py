"""Budgets through the real broker: the admin API (set, list, remove, status; validation
that changes nothing) and `dome budget ...` as an operator runs it against it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import anyio
import httpx
import pytest
from click.testing import CliRunner, Result

from dome.cli import CliContext, cli
from dome.spend.budgets import Budgets
from dome.spend.ceilings import MAX_UNITS, Ceiling
from dome.spend.sql_counters import SqlCounters
from dome.store.engine import create_async_engine, database_urls
from tests.integration.broker import ThreadedBroker, threaded_broker

BUDGETS = "/budgets"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedBroker]:
    with threaded_broker(tmp_path_factory.mktemp("budgets")) as running:
        admin = running.admin
        admin.agent("planner", workspace="research", tenant="acme")
        admin.agent("writer", workspace="research", tenant="acme")
        admin.agent("auditor", workspace="review", tenant="acme")
        admin.agent("outsider", workspace="elsewhere", tenant="other")
        admin.agent("retired", workspace="research", tenant="acme")
        # Its counters are written by one test only: usage outlives its budgets.
        admin.agent("spender", workspace="ledger", tenant="counted")
        admin.call("POST", "/agents/retired/revoke")
        yield running


@pytest.fixture(autouse=True)
def no_budgets(broker: ThreadedBroker) -> Iterator[None]:
    """Each test starts and ends without budgets (the broker is shared)."""
    remove_all(broker)
    yield
    remove_all(broker)


def remove_all(broker: ThreadedBroker) -> None:
    for row in broker.admin.call("GET", BUDGETS)["data"]:
        key = {k: row[k] for k in ("scope_kind", "scope_name", "metric", "period")}
        broker.admin.call("DELETE", BUDGETS, key)


def admin(
    broker: ThreadedBroker,
    method: str,
    path: str,
    *,
    json: object = None,
    params: Mapping[str, str] | None = None,
    token: str | None = None,
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token or broker.admin.token}"}
    url = broker.url + "/admin/v1" + path
    return httpx.request(method, url, headers=headers, json=json, params=params, timeout=10)


def budget(kind: str, name: str, metric: str, period: str, limit: object) -> dict[str, Any]:
    return {
        "scope_kind": kind,
        "scope_name": name,
        "metric": metric,
        "period": period,
        "limit": limit,
    }


def listed(broker: ThreadedBroker, **params: str) -> list[dict[str, Any]]:
    response = admin(broker, "GET", BUDGETS, params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def put(broker: ThreadedBroker, *args: object) -> dict[str, Any]:
    response = admin(broker, "PUT", BUDGETS, json=budget(*args))  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def status(broker: ThreadedBroker, agent: str) -> list[dict[str, Any]]:
    response = admin(broker, "GET", BUDGETS + "/status", params={"agent": agent})
    assert response.status_code == 200, response.text
    assert response.json()["agent"] == agent
    data: list[dict[str, Any]] = response.json()["data"]
    return data


# The admin API


def test_budgets_need_the_admin_token(broker: ThreadedBroker) -> None:
    for method, path in (
        ("GET", BUDGETS),
        ("PUT", BUDGETS),
        ("DELETE", BUDGETS),
        ("GET", BUDGETS + "/status"),
    ):
        assert httpx.request(method, broker.url + "/admin/v1" + path).status_code == 401
    response = admin(broker, "PUT", BUDGETS, json=budget("agent", "planner", "tokens", "day", 5))
    assert response.status_code == 200
    wrong = admin(broker, "GET", BUDGETS, token="dome_adm_wrong")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["type"] == "authentication_error"


def test_set_shows_changes_and_removes_a_budget(broker: ThreadedBroker) -> None:
    created = put(broker, "agent", "planner", "tokens", "day", 100_000)
    changed = put(broker, "agent", "planner", "tokens", "day", "250000")

    assert {k: v for k, v in created.items() if not k.endswith("_at")} == {
        "id": "agent:planner:tokens:day",
        "scope_kind": "agent",
        "scope_name": "planner",
        "metric": "tokens",
        "period": "day",
        "limit": "100000",
    }
    assert changed["limit"] == "250000"
    assert changed["created_at"] == created["created_at"]
    assert changed["updated_at"] >= created["updated_at"]
    assert listed(broker) == [changed]

    removed = admin(broker, "DELETE", BUDGETS, params=without_limit(changed))
    assert removed.status_code == 204
    assert listed(broker) == []


def without_limit(row: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(row[k]) for k in ("scope_kind", "scope_name", "metric", "period")}


def test_usd_limits_are_exact_decimal_strings(broker: ThreadedBroker) -> None:
    assert put(broker, "tenant", "acme", "usd", "month", "1250.50")["limit"] == "1250.50"
    assert put(broker, "tenant", "acme", "usd", "day", 40)["limit"] == "40"
    assert put(broker, "tenant", "acme", "usd", "hour", "0.000000001")["limit"] == "0.000000001"
    assert [row["limit"] for row in listed(broker)] == ["0.000000001", "40", "1250.50"]


def test_list_is_ordered_and_filters_by_scope(broker: ThreadedBroker) -> None:
    put(broker, "tenant", "acme", "usd", "month", "100")
    put(broker, "workspace", "research", "tokens", "week", 5_000_000)
    put(broker, "agent", "writer", "tokens", "hour", 1000)
    put(broker, "agent", "planner", "usd", "total", "20")
    put(broker, "agent", "planner", "tokens", "day", 9000)

    assert [row["id"] for row in listed(broker)] == [
        "agent:planner:tokens:day",
        "agent:planner:usd:total",
        "agent:writer:tokens:hour",
        "workspace:research:tokens:week",
        "tenant:acme:usd:month",
    ]
    assert [row["id"] for row in listed(broker, scope_kind="agent", scope_name="planner")] == [
        "agent:planner:tokens:day",
        "agent:planner:usd:total",
    ]
    assert [row["id"] for row in listed(broker, scope_kind="tenant")] == ["tenant:acme:usd:month"]
    assert listed(broker, scope_kind="agent", scope_name="nobody") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope_name": "planner", "metric": "tokens", "period": "day", "limit": 5}, "scope_kind"),
        (budget("model", "planner", "tokens", "day", 5), "scope_kind"),
        (budget("agent", "", "tokens", "day", 5), "scope_name"),
        ({**budget("agent", "planner", "tokens", "day", 5), "scope_name": 7}, "scope_name"),
        (budget("agent", "planner", "requests", "day", 5), "metric"),
        (budget("agent", "planner", "tokens", "year", 5), "period"),
        (budget("agent", "planner", "tokens", "Day", 5), "period"),
        ({**budget("agent", "planner", "tokens", "day", 5), "extra": 1}, "extra"),
        (
            {
                k: v
                for k, v in budget("agent", "planner", "tokens", "day", 5).items()
                if k != "limit"
            },
            "limit",
        ),
        (budget("agent", "planner", "tokens", "day", 0), "limit"),
        (budget("agent", "planner", "tokens", "day", -5), "limit"),
        (budget("agent", "planner", "tokens", "day", "-5"), "limit"),
        (budget("agent", "planner", "tokens", "day", 1.5), "limit"),
        (budget("agent", "planner", "tokens", "day", 1000.0), "limit"),  # a float, even whole
        (budget("agent", "planner", "tokens", "day", "1.5"), "limit"),
        (budget("agent", "planner", "tokens", "day", "1e3"), "limit"),
        ({**budget("agent", "planner", "tokens", "day", 1), "limit": True}, "limit"),
        (budget("agent", "planner", "tokens", "day", MAX_UNITS + 1), "limit"),
        (budget("agent", "planner", "usd", "day", 2.5), "limit"),
        (budget("agent", "planner", "usd", "day", "0"), "limit"),
        (budget("agent", "planner", "usd", "day", "0.000"), "limit"),
        (budget("agent", "planner", "usd", "day", "0.0000000001"), "limit"),
        (budget("agent", "planner", "usd", "day", "NaN"), "limit"),
        (budget("agent", "planner", "usd", "day", "Infinity"), "limit"),
        (budget("agent", "planner", "usd", "day", "5,00"), "limit"),
        (budget("agent", "planner", "usd", "day", "$5"), "limit"),
        (budget("agent", "planner", "usd", "day", "10000000"), "limit"),  # over 2**53 nano-USD
        (budget("agent", "planner", "usd", "day", None), "limit"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    broker: ThreadedBroker, body: dict[str, Any], field: str
) -> None:
    put(broker, "agent", "planner", "tokens", "day", 77)
    before = listed(broker)

    response = admin(broker, "PUT", BUDGETS, json=body)

    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith(f"{field}: ")
    assert listed(broker) == before


def test_a_json_body_that_is_not_an_object_is_a_400(broker: ThreadedBroker) -> None:
    for content in (b"{", b"[1]", b""):
        response = httpx.put(
            broker.url + "/admin/v1/budgets",
            content=content,
            headers={"authorization": f"Bearer {broker.admin.token}"},
        )
        assert response.status_code == 400
    assert listed(broker) == []


@pytest.mark.parametrize(
    ("kind", "name"),
    [("agent", "ghost"), ("workspace", "ghost"), ("tenant", "ghost"), ("agent", "research")],
)
def test_an_unknown_scope_is_a_404_and_changes_nothing(
    broker: ThreadedBroker, kind: str, name: str
) -> None:
    response = admin(broker, "PUT", BUDGETS, json=budget(kind, name, "tokens", "day", 5))

    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"{kind} {name!r} not found"
    assert listed(broker) == []


def test_a_revoked_agent_may_keep_and_get_budgets(broker: ThreadedBroker) -> None:
    put(broker, "agent", "retired", "tokens", "total", 10)

    shown = status(broker, "retired")

    assert [row["id"] for row in shown] == ["agent:retired:tokens:total"]


def test_remove_takes_a_query_or_a_body_and_a_missing_one_is_a_404(
    broker: ThreadedBroker,
) -> None:
    put(broker, "agent", "planner", "tokens", "day", 5)
    put(broker, "workspace", "research", "usd", "week", "3")
    key = without_limit(budget("workspace", "research", "usd", "week", None))

    by_body = admin(broker, "DELETE", BUDGETS, json=key)
    again = admin(broker, "DELETE", BUDGETS, json=key)
    incomplete = admin(broker, "DELETE", BUDGETS, params={"scope_kind": "agent"})
    with_limit = admin(broker, "DELETE", BUDGETS, json={**key, "limit": "3"})

    assert by_body.status_code == 204
    assert again.status_code == 404
    assert again.json()["error"]["message"] == "workspace 'research' has no usd budget per week"
    assert incomplete.status_code == 400
    assert incomplete.json()["error"]["message"] == "scope_name: field required"
    assert with_limit.status_code == 400
    assert [row["id"] for row in listed(broker)] == ["agent:planner:tokens:day"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"scope_kind": "model"}, "scope_kind: must be one of agent, workspace, tenant"),
        ({"scope_name": "planner"}, "scope_kind: required with scope_name"),
        ({"scope": "agent"}, "scope: unknown field"),
    ],
)
def test_bad_list_filters_are_a_400(
    broker: ThreadedBroker, params: dict[str, str], message: str
) -> None:
    response = admin(broker, "GET", BUDGETS, params=params)

    assert response.status_code == 400
    assert response.json()["error"]["message"] == message


def test_status_shows_every_ceiling_in_the_agents_scope(broker: ThreadedBroker) -> None:
    put(broker, "agent", "planner", "tokens", "day", 1000)
    put(broker, "agent", "planner", "usd", "total", "2.50")
    put(broker, "workspace", "research", "tokens", "week", 50_000)
    put(broker, "tenant", "acme", "usd", "month", "100")
    put(broker, "agent", "writer", "tokens", "hour", 10)  # a colleague's: not in scope
    put(broker, "workspace", "review", "tokens", "hour", 10)  # another workspace
    put(broker, "tenant", "other", "tokens", "hour", 10)  # another tenant
    now = datetime.now(UTC)

    shown = status(broker, "planner")

    assert [row["id"] for row in shown] == [
        "agent:planner:tokens:day",
        "agent:planner:usd:total",
        "workspace:research:tokens:week",
        "tenant:acme:usd:month",
    ]
    for row in shown:
        zero = "0.00" if row["limit"] == "2.50" else "0"
        assert (row["used"], row["reserved"], row["remaining"]) == (zero, zero, row["limit"])
    day, total, week, month = (row["resets_at"] for row in shown)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    assert parse(day) in (midnight, midnight + timedelta(days=1))  # the test may span midnight
    assert total is None
    assert parse(week).weekday() == 0  # Monday 00:00 UTC
    assert parse(week).time() == datetime.min.time()
    assert parse(month).day == 1
    assert [row["id"] for row in status(broker, "outsider")] == ["tenant:other:tokens:hour"]
    assert status(broker, "auditor")[0]["id"] == "workspace:review:tokens:hour"


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_status_reads_what_the_counters_hold(broker: ThreadedBroker) -> None:
    # Total ceilings: a windowed one could roll over between reserve and status.
    put(broker, "agent", "spender", "tokens", "total", 1000)
    put(broker, "tenant", "counted", "usd", "total", "2.50")
    tokens = Ceiling("agent", "spender", "tokens", "total", Decimal(1000))
    usd = Ceiling("tenant", "counted", "usd", "total", Decimal("2.50"))

    async def spend() -> None:
        engine = create_async_engine(database_urls(broker.settings.database_url))
        budgets = Budgets(SqlCounters(engine))
        try:
            first = await budgets.reserve("call-1", [tokens, usd], 300, Decimal("0.5"))
            assert first is not None
            await budgets.settle(first, 120, Decimal("0.000000125"))
            await budgets.reserve("call-2", [tokens, usd], 50, Decimal("0.25"))  # in flight
        finally:
            await engine.dispose()

    anyio.run(spend)
    shown = {row["id"]: row for row in status(broker, "spender")}

    assert {k: shown[tokens.id][k] for k in ("used", "reserved", "remaining")} == {
        "used": "120",
        "reserved": "50",
        "remaining": "830",
    }
    assert {k: shown[usd.id][k] for k in ("limit", "used", "reserved", "remaining")} == {
        "limit": "2.50",
        "used": "0.000000125",  # as many places as it needs, never rounded
        "reserved": "0.25",
        "remaining": "2.249999875",
    }


def test_status_of_an_unknown_agent_is_a_404_and_the_agent_is_required(
    broker: ThreadedBroker,
) -> None:
    unknown = admin(broker, "GET", BUDGETS + "/status", params={"agent": "ghost"})
    missing = admin(broker, "GET", BUDGETS + "/status")

    assert unknown.status_code == 404
    assert missing.status_code == 400
    assert missing.json()["error"]["message"] == "agent: field required"
    assert status(broker, "writer") == []  # an agent without ceilings


# The CLI, against the same broker


def dome(broker: ThreadedBroker, *args: str) -> Result:
    env = {
        "DOME_URL": broker.url,
        "DOME_ADMIN_TOKEN": broker.admin.token,
        "DOME_HOME": str(broker.data_dir),
    }
    return CliRunner().invoke(cli, list(args), env=env, obj=CliContext(environ=env))


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_sets_lists_shows_status_and_removes(broker: ThreadedBroker) -> None:
    set_tokens = ok(
        dome(broker, "budget", "set", "--agent", "planner", "--tokens", "100000", "--period", "day")
    )
    set_usd = json.loads(
        ok(
            dome(
                broker,
                "budget",
                "set",
                "--workspace",
                "research",
                "--usd",
                "25.00",
                "--period",
                "month",
                "--output",
                "json",
            )
        )
    )
    ok(dome(broker, "budget", "set", "--tenant", "acme", "--usd", "500", "--period", "total"))

    assert set_tokens.splitlines()[0].split() == [
        "SCOPE",
        "NAME",
        "METRIC",
        "PERIOD",
        "LIMIT",
        "UPDATED",
    ]
    assert set_tokens.splitlines()[1].split()[:5] == ["agent", "planner", "tokens", "day", "100000"]
    assert set_usd["id"] == "workspace:research:usd:month"
    assert set_usd["limit"] == "25.00"

    everything = json.loads(ok(dome(broker, "budget", "list", "--output", "json")))
    assert [row["id"] for row in everything] == [
        "agent:planner:tokens:day",
        "workspace:research:usd:month",
        "tenant:acme:usd:total",
    ]
    only = ok(dome(broker, "budget", "list", "--workspace", "research"))
    assert len(only.splitlines()) == 2
    assert "25.00" in only

    table = ok(dome(broker, "budget", "status", "--agent", "planner")).splitlines()
    assert table[0].split() == [
        "SCOPE",
        "NAME",
        "METRIC",
        "PERIOD",
        "LIMIT",
        "USED",
        "RESERVED",
        "REMAINING",
        "RESETS",
        "AT",
    ]
    assert table[1].split()[:8] == [
        "agent",
        "planner",
        "tokens",
        "day",
        "100000",
        "0",
        "0",
        "100000",
    ]
    assert table[3].split() == ["tenant", "acme", "usd", "total", "500", "0", "0", "500", "-"]
    shown = json.loads(ok(dome(broker, "budget", "status", "--agent", "planner", "-o", "json")))
    assert [row["remaining"] for row in shown] == ["100000", "25.00", "500"]

    removed = ok(
        dome(broker, "budget", "remove", "--agent", "planner", "--tokens", "--period", "day")
    )
    assert removed.strip() == "removed the tokens budget per day of agent planner"
    again = dome(broker, "budget", "remove", "--agent", "planner", "--tokens", "--period", "day")
    assert again.exit_code == 1
    assert "error: agent 'planner' has no tokens budget per day" in again.stderr
    assert ok(dome(broker, "budget", "list", "--agent", "planner")).strip() == "no budgets"


def test_cli_errors_from_the_broker_are_clear(broker: ThreadedBroker) -> None:
    unknown = dome(broker, "budget", "set", "--agent", "ghost", "--tokens", "5", "--period", "day")
    no_agent = dome(broker, "budget", "status", "--agent", "ghost")

    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "error: agent 'ghost' not found"
    assert no_agent.exit_code == 1
    assert listed(broker) == []


@pytest.mark.parametrize(
    "args",
    [
        ("set", "--agent", "planner", "--tokens", "5", "--usd", "1", "--period", "day"),
        ("set", "--agent", "planner", "--period", "day"),
        ("set", "--agent", "planner", "--tokens", "-5", "--period", "day"),
        ("set", "--agent", "planner", "--tokens", "0", "--period", "day"),
        ("set", "--agent", "planner", "--tokens", "1.5", "--period", "day"),
        ("set", "--agent", "planner", "--tokens", str(MAX_UNITS + 1), "--period", "day"),
        ("set", "--agent", "planner", "--usd", "-1", "--period", "day"),
        ("set", "--agent", "planner", "--usd", "0.00", "--period", "day"),
        ("set", "--agent", "planner", "--usd", "1e3", "--period", "day"),
        ("set", "--agent", "planner", "--usd", "0.0000000001", "--period", "day"),
        ("set", "--tokens", "5", "--period", "day"),
        ("set", "--agent", "planner", "--tenant", "acme", "--tokens", "5", "--period", "day"),
        ("set", "--agent", "", "--tokens", "5", "--period", "day"),
        ("set", "--agent", "planner", "--tokens", "5"),
        ("set", "--agent", "planner", "--tokens", "5", "--period", "year"),
        ("remove", "--agent", "planner", "--period", "day"),
        ("remove", "--tokens", "--period", "day"),
        ("list", "--agent", "planner", "--workspace", "research"),
        ("status",),
    ],
)
def test_cli_bad_arguments_are_usage_errors_and_change_nothing(
    broker: ThreadedBroker, args: tuple[str, ...]
) -> None:
    put(broker, "agent", "planner", "tokens", "day", 42)
    before = listed(broker)

    result = dome(broker, "budget", *args)

    assert result.exit_code == 2, result.output
    assert "Usage:" in result.stderr
    assert listed(broker) == before
