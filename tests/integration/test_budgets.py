"""Spend ceilings enforced on real calls: denied before any provider sees the call, in the
agent's wire format, settled to what was used, and holding under concurrency."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.broker import (
    AdminClient,
    BrokerProcess,
    ThreadedBroker,
    free_port,
    threaded_broker,
)
from tests.postgres import PostgresServer

REDIS_URL = "redis://127.0.0.1:6379/0"

MAX_TOKENS = 50
PROMPT: Any = [{"role": "user", "content": "how much is left?"}]  # both SDKs take it


@pytest.fixture(scope="module")
def broker(
    tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeOpenAI
) -> Iterator[ThreadedBroker]:
    with threaded_broker(tmp_path_factory.mktemp("budgets")) as running:
        admin = running.admin
        admin.permit_all()
        admin.model("demo", "mock", model="mock-1")
        add_race_model(admin, fake_openai)
        admin.model(
            "gpt-slow",
            "openai",
            model="gpt-slow",
            base_url=fake_openai.url + "/v1",
            credential=fake_openai.api_key,
            input_price="1.00",
            output_price="2.00",
        )
        yield running


def add_race_model(admin: AdminClient, fake: FakeOpenAI) -> None:
    admin.model(
        "gpt-race",
        "openai",
        model="gpt-4o-mini",
        base_url=fake.url + "/v1",
        credential=fake.api_key,
    )


def set_budget(
    admin: AdminClient, scope: str, name: str, metric: str, limit: str, period: str = "day"
) -> None:
    admin.call(
        "PUT",
        "/budgets",
        {
            "scope_kind": scope,
            "scope_name": name,
            "metric": metric,
            "period": period,
            "limit": limit,
        },
    )


def status(admin: AdminClient, agent: str) -> list[dict[str, Any]]:
    return list(admin.call("GET", f"/budgets/status?agent={agent}")["data"])


def calls_for(admin: AdminClient, agent: str, timeout: float = 5) -> list[dict[str, Any]]:
    """The agent's call records once the writer caught up (none pending for `timeout`)."""
    deadline = time.monotonic() + timeout
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = admin.call("GET", f"/audit/calls?agent={agent}&limit=1000")["data"]
        if rows and len(rows) == len(seen):
            return list(rows)
        seen = rows
        time.sleep(0.3)
    return list(seen)


def test_a_call_over_a_ceiling_is_denied_before_any_provider_sees_it(
    broker: ThreadedBroker, fake_openai: FakeOpenAI
) -> None:
    admin = broker.admin
    token = admin.agent("frugal")
    set_budget(admin, "agent", "frugal", "tokens", "20")
    fake_openai.reset()
    with openai.OpenAI(base_url=broker.url + "/v1", api_key=token, max_retries=2) as client:
        with pytest.raises(openai.RateLimitError) as raised:
            client.chat.completions.create(model="gpt-slow", max_tokens=MAX_TOKENS, messages=PROMPT)
    error = raised.value
    assert error.status_code == 429
    assert error.body["type"] == "budget_exceeded"  # type: ignore[index]
    assert "agent 'frugal'" in error.message
    assert 0 < int(error.response.headers["retry-after"]) <= 86_400
    assert error.response.headers["x-should-retry"] == "false"
    assert fake_openai.requests == []  # nothing went upstream
    (record,) = calls_for(admin, "frugal")  # and the SDK did not retry
    assert (record["outcome"], record["budget"]) == ("denied_budget", "denied")
    assert record["budget_ceiling"] == "agent:frugal:tokens:day"
    assert record["attempt_count"] == 0

    with anthropic.Anthropic(base_url=broker.url + "/v1", api_key=token, max_retries=0) as client:
        with pytest.raises(anthropic.RateLimitError) as denied:
            client.messages.create(model="gpt-slow", max_tokens=MAX_TOKENS, messages=PROMPT)
    assert denied.value.body["error"]["type"] == "budget_exceeded"  # type: ignore[index]
    assert fake_openai.requests == []


def test_a_call_is_settled_to_what_it_used(broker: ThreadedBroker) -> None:
    admin = broker.admin
    token = admin.agent("settler")
    set_budget(admin, "agent", "settler", "tokens", "100000", "month")
    set_budget(admin, "workspace", "ws", "tokens", "10000000", "week")
    with openai.OpenAI(base_url=broker.url + "/v1", api_key=token, max_retries=0) as client:
        first = client.chat.completions.create(model="demo", max_tokens=MAX_TOKENS, messages=PROMPT)
        streamed = list(
            client.chat.completions.create(
                model="demo", max_tokens=MAX_TOKENS, messages=PROMPT, stream=True
            )
        )
    assert first.usage is not None
    # The agent did not ask for usage in the stream: it gets none, the broker meters it.
    assert all(chunk.usage is None for chunk in streamed)
    records = calls_for(admin, "settler")
    assert len(records) == 2
    assert all(r["usage_estimated"] is False and r["total_tokens"] > 0 for r in records)
    used = sum(r["total_tokens"] for r in records)
    assert first.usage.total_tokens in [r["total_tokens"] for r in records]
    deadline = time.monotonic() + 5
    while True:
        mine = {line["scope_kind"]: line for line in status(admin, "settler")}
        if tokens(mine["agent"]["used"]) == used or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert tokens(mine["agent"]["used"]) == used
    assert tokens(mine["agent"]["reserved"]) == 0
    assert tokens(mine["agent"]["remaining"]) == 100000 - used
    assert mine["workspace"]["scope_name"] == "ws"


def tokens(text: str) -> int:
    """A token amount as the status API gives it (Decimal text of a whole number)."""
    return int(text)


RACE_BODY = {"model": "gpt-race", "max_tokens": MAX_TOKENS, "messages": PROMPT, "stream": True}


async def race(
    urls: Sequence[str], token: str, count: int, fake: FakeOpenAI, admitted: int
) -> list[int]:
    """`count` streaming calls released together, spread over the brokers at `urls`.

    The fake holds every stream after its first event until all but `admitted` calls
    have been answered, so no admitted call settles (and frees room) while the others
    still ask; then a moment more, for an over-admitted call to show up.
    """
    headers = {"authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        go = asyncio.Event()

        async def one(url: str) -> int:
            await go.wait()
            async with client.stream(
                "POST", url + "/v1/chat/completions", json=RACE_BODY, headers=headers
            ) as response:
                await response.aread()
                return response.status_code

        with fake.stream_gate.hold():
            tasks = [asyncio.ensure_future(one(urls[i % len(urls)])) for i in range(count)]
            await asyncio.sleep(0.2)
            go.set()
            deadline = time.monotonic() + 60
            while sum(t.done() for t in tasks) < count - admitted:
                assert time.monotonic() < deadline, "the denied calls did not come back"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
        return list(await asyncio.gather(*tasks))


def reservation() -> int:
    """What one racing call reserves: its body at 4 bytes a token, plus max_tokens."""
    request = httpx.Request("POST", "http://127.0.0.1/", json=RACE_BODY)
    return len(request.content) // 4 + MAX_TOKENS


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_200_calls_released_together_admit_only_what_the_ceiling_holds(
    broker: ThreadedBroker, fake_openai: FakeOpenAI, round_: int
) -> None:
    admin = broker.admin
    agent = f"racer-{round_}"
    token = admin.agent(agent)
    set_budget(admin, "agent", agent, "tokens", str(10 * reservation()))
    fake_openai.reset()
    statuses = asyncio.run(race([broker.url], token, 200, fake_openai, admitted=10))
    assert statuses.count(429) == 190
    assert statuses.count(200) == 10
    assert len(fake_openai.requests) == 10


@pytest.fixture
def two_processes(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server: PostgresServer
) -> Iterator[tuple[BrokerProcess, BrokerProcess]]:
    """Two `dome serve` processes on one store: one SQLite file, or PostgreSQL with the
    counters in Redis."""
    environ: dict[str, str] = {}
    if request.param == "postgres+redis":
        environ = {
            "DOME_DATABASE_URL": postgres_server.create_database(),
            "DOME_REDIS_URL": REDIS_URL,
        }
    first = BrokerProcess(tmp_path, environ)
    try:
        first.wait_ready()
        second = BrokerProcess(tmp_path, environ)
        try:
            second.wait_ready()
            yield first, second
        finally:
            second.terminate()
    finally:
        first.terminate()


@pytest.mark.postgres
@pytest.mark.parametrize("two_processes", ["sqlite", "postgres+redis"], indirect=True)
def test_two_broker_processes_share_one_ceiling(
    two_processes: tuple[BrokerProcess, BrokerProcess], fake_openai: FakeOpenAI
) -> None:
    first, second = two_processes
    admin = first.admin
    admin.permit_all()
    add_race_model(admin, fake_openai)
    agent = f"shared-{secrets.token_hex(4)}"  # Redis outlives the test: a fresh counter
    token = admin.agent(agent)
    set_budget(admin, "agent", agent, "tokens", str(10 * reservation()))
    wait_for_config(second.admin, agent)
    fake_openai.reset()
    statuses = asyncio.run(race([first.url, second.url], token, 200, fake_openai, admitted=10))
    assert statuses.count(429) == 190
    assert statuses.count(200) == 10
    assert len(fake_openai.requests) == 10


def wait_for_config(admin: AdminClient, agent: str, timeout: float = 10) -> None:
    """Until the other process serves the new agent's budget."""
    deadline = time.monotonic() + timeout
    path = f"{admin.url}/admin/v1/budgets/status?agent={agent}"
    headers = {"authorization": f"Bearer {admin.token}"}
    while True:
        response = httpx.get(path, headers=headers, timeout=10)
        if response.status_code == 200 and response.json()["data"]:
            break
        assert time.monotonic() < deadline, "the budget did not reach the second process"
        time.sleep(0.1)
    time.sleep(1.0)  # the agent-plane snapshot reloads on the same poll


def test_unreachable_counters_fail_closed(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with threaded_broker(tmp_path, {"DOME_REDIS_URL": closed}) as running:
        admin = running.admin
        admin.permit_all()
        add_race_model(admin, fake_openai)
        limited, free = admin.agent("limited"), admin.agent("unlimited")
        set_budget(admin, "agent", "limited", "tokens", "100000")
        fake_openai.reset()
        body = {"model": "gpt-race", "max_tokens": MAX_TOKENS, "messages": PROMPT}
        url = running.url + "/v1/chat/completions"
        refused = httpx.post(url, json=body, headers={"authorization": f"Bearer {limited}"})
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        assert "budget" in refused.json()["error"]["message"]
        assert fake_openai.requests == []
        # Without a ceiling in scope the counters are never asked: calls go through.
        served = httpx.post(url, json=body, headers={"authorization": f"Bearer {free}"})
        assert served.status_code == 200
        (record,) = calls_for(admin, "limited")
        assert (record["outcome"], record["budget"]) == ("budget_unavailable", "unavailable")
