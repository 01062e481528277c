"""The broker as real processes: `dome serve`, config changes across processes,
SIGTERM losing no audit record, and PostgreSQL as the store."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import psycopg
import pytest

from tests.integration.broker import BrokerProcess, threaded_broker
from tests.postgres import PostgresServer


def chat(url: str, token: str, model: str = "demo") -> httpx.Response:
    return httpx.post(
        url + "/v1/chat/completions",
        timeout=10,
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {token}"},
    )


@pytest.fixture
def first_process(tmp_path: Path) -> Iterator[BrokerProcess]:
    process = BrokerProcess(tmp_path)
    try:
        process.wait_ready()
        yield process
    finally:
        if process.process.poll() is None:
            process.terminate()
        process.close()


def test_first_start_creates_private_key_files_and_prints_the_token_once(tmp_path: Path) -> None:
    first = BrokerProcess(tmp_path)
    first.wait_ready()
    _, err = first.terminate()
    token = (tmp_path / "admin-token").read_text().strip()
    assert token in err
    for name in ("master.key", "admin-token"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    second = BrokerProcess(tmp_path)
    second.wait_ready()
    _, err = second.terminate()
    assert token not in err
    assert (tmp_path / "admin-token").read_text().strip() == token


def test_a_change_made_in_one_process_reaches_another_within_2_seconds(
    first_process: BrokerProcess, tmp_path: Path
) -> None:
    second = BrokerProcess(tmp_path)
    try:
        second.wait_ready()
        admin = first_process.admin
        admin.permit_all()
        token = admin.agent("a1")
        admin.model("demo", "mock")
        deadline = time.monotonic() + 2.0
        while chat(second.url, token).status_code != 200:
            assert time.monotonic() < deadline, "the second process did not see the change"
            time.sleep(0.05)
        admin.call("POST", "/agents/a1/revoke")
        deadline = time.monotonic() + 2.0
        while chat(second.url, token).status_code != 401:
            assert time.monotonic() < deadline, "the second process did not see the revocation"
            time.sleep(0.05)
    finally:
        second.terminate()


def test_sigterm_loses_no_audit_record(first_process: BrokerProcess, tmp_path: Path) -> None:
    admin = first_process.admin
    admin.permit_all()
    token = admin.agent("a1")
    admin.model("demo", "mock", model="mock-slow")
    with openai.OpenAI(base_url=first_process.url + "/v1", api_key=token, max_retries=0) as client:
        for _ in range(20):
            client.chat.completions.create(
                model="demo", messages=[{"role": "user", "content": "x"}]
            )
    first_process.terminate()
    with sqlite3.connect(tmp_path / "dome.db") as database:
        (count,) = database.execute("select count(*) from llm_calls where agent = 'a1'").fetchone()
    assert count == 20


@pytest.mark.postgres
def test_the_broker_runs_on_postgresql(tmp_path: Path, postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    with threaded_broker(tmp_path, {"DOME_DATABASE_URL": url}) as broker:
        admin = broker.admin
        admin.permit_all()
        token = admin.agent("pg-agent")
        admin.model("demo", "mock")
        assert chat(broker.url, token).status_code == 200
        deadline = time.monotonic() + 5
        while not admin.call("GET", "/audit?limit=5")["data"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection:
        row = connection.execute("select agent, status from llm_calls").fetchone()
    assert row == ("pg-agent", 200)
    assert not (tmp_path / "dome.db").exists()


def test_sigterm_lets_an_open_stream_finish_and_audits_it(
    first_process: BrokerProcess, tmp_path: Path
) -> None:
    admin = first_process.admin
    admin.permit_all()
    token = admin.agent("a2")
    admin.model("slow", "mock", model="mock-slow")
    body = {
        "model": "slow",
        "stream": True,
        "messages": [{"role": "user", "content": "a long story " * 20}],
    }
    with httpx.stream(
        "POST",
        first_process.url + "/v1/chat/completions",
        json=body,
        timeout=30,
        headers={"authorization": f"Bearer {token}"},
    ) as response:
        lines = response.iter_lines()
        assert next(line for line in lines if line.startswith("data: "))
        first_process.process.send_signal(signal.SIGTERM)
        rest = [line for line in lines if line.startswith("data: ")]
    assert rest[-1] == "data: [DONE]"
    first_process.process.wait(timeout=30)
    with sqlite3.connect(tmp_path / "dome.db") as database:
        rows = database.execute(
            "select status, stream from llm_calls where agent = 'a2'"
        ).fetchall()
    assert rows == [(200, 1)]


def test_a_call_cut_short_by_a_killed_broker_is_still_in_the_audit(
    first_process: BrokerProcess, tmp_path: Path
) -> None:
    """SIGKILL mid-stream: no shutdown, no flush. The call's start was journaled before
    the provider saw it, so the next broker stores it, and the chain still verifies."""
    admin = first_process.admin
    admin.permit_all()
    token = admin.agent("a3")
    admin.model("slow", "mock", model="mock-slow")
    body = {"model": "slow", "stream": True, "messages": [{"role": "user", "content": "go"}]}
    with httpx.stream(
        "POST",
        first_process.url + "/v1/chat/completions",
        json=body,
        timeout=30,
        headers={"authorization": f"Bearer {token}"},
    ) as response:
        assert next(line for line in response.iter_lines() if line.startswith("data: "))
        first_process.process.send_signal(signal.SIGKILL)
        first_process.process.wait(timeout=30)
    left = list((tmp_path / "audit-journal").iterdir())
    assert any(path.suffix == ".jsonl" for path in left)
    second = BrokerProcess(tmp_path)
    try:
        second.wait_ready()
        (call,) = second.admin.call("GET", "/audit/calls?agent=a3")["data"]
        assert (call["outcome"], call["requested_model"], call["stream"]) == (
            "incomplete",
            "slow",
            True,
        )
        report = second.admin.call("POST", "/audit/verify")
        assert report["ok"], report["findings"]
        assert not any(path.exists() for path in left)  # stored, then removed
    finally:
        second.terminate()


def test_sigterm_under_load_completes_and_audits_every_accepted_call(
    first_process: BrokerProcess, tmp_path: Path
) -> None:
    admin = first_process.admin
    admin.permit_all()
    token = admin.agent("a4")
    admin.model("slow", "mock", model="mock-slow")
    body = {"model": "slow", "stream": True, "messages": [{"role": "user", "content": "go on"}]}
    headers = {"authorization": f"Bearer {token}"}
    streams = 20

    async def one(client: httpx.AsyncClient, started: asyncio.Queue[None]) -> list[str]:
        url = first_process.url + "/v1/chat/completions"
        async with client.stream("POST", url, json=body, headers=headers) as response:
            events: list[str] = []
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    events.append(line)
                    if len(events) == 1:
                        started.put_nowait(None)
            return events

    async def load() -> list[list[str]]:
        started: asyncio.Queue[None] = asyncio.Queue()
        limits = httpx.Limits(max_connections=streams)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            tasks = [asyncio.ensure_future(one(client, started)) for _ in range(streams)]
            for _ in range(streams):
                await asyncio.wait_for(started.get(), 30)
            first_process.process.send_signal(signal.SIGTERM)  # all 20 are mid-stream
            return list(await asyncio.gather(*tasks))

    answers = asyncio.run(load())
    assert all(events[-1] == "data: [DONE]" for events in answers)
    first_process.process.wait(timeout=30)
    with sqlite3.connect(tmp_path / "dome.db") as database:
        rows = database.execute(
            "select outcome, count(*) from llm_calls where agent = 'a4' group by outcome"
        ).fetchall()
    assert rows == [("ok", streams)]
    assert not list((tmp_path / "audit-journal").glob("*"))  # nothing left to recover
