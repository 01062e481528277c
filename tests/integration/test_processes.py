"""The broker as real processes: `dome serve`, config changes across processes,
SIGTERM losing no audit record, and PostgreSQL as the store."""

from __future__ import annotations

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
