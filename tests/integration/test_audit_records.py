"""The llm.* records of a call: one per upstream attempt and its end (its start is
journaled and stored only if the call never ends: tests/integration/test_processes.py);
usage and cost per attempt, and the call's total across attempts."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import openai

from tests.integration.conftest import Wired


def records_of(wired: Wired, call_id: str, kinds: int, timeout: float = 5) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        response = wired.broker.admin.call("GET", f"/audit/calls/{call_id}")
        if len(response["records"]) >= kinds or time.monotonic() > deadline:
            return list(response["records"])
        time.sleep(0.1)


def newest_call(wired: Wired, **filters: str) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    deadline = time.monotonic() + 5
    while True:
        rows = wired.broker.admin.call("GET", f"/audit/calls?{query}&limit=1")["data"]
        if rows or time.monotonic() > deadline:
            return dict(rows[0])
        time.sleep(0.1)


def test_a_call_has_an_attempt_and_an_end_record(wired: Wired) -> None:
    with openai.OpenAI(base_url=wired.broker.url + "/v1", api_key=wired.token) as client:
        answer = client.chat.completions.create(
            model="gpt-prod", messages=[{"role": "user", "content": "three records"}]
        )
    assert answer.usage is not None
    call_id = newest_call(wired, model="gpt-prod", outcome="ok")["call_id"]
    attempt, ended = records_of(wired, call_id, 2)
    call = newest_call(wired, model="gpt-prod", outcome="ok")
    assert [r["kind"] for r in (attempt, ended)] == ["attempt", "call"]
    assert ended["decision"] == "allow"
    assert (attempt["attempt"], attempt["outcome"], attempt["status"]) == (1, "ok", 200)
    for record in (attempt, ended):
        assert record["input_tokens"] == answer.usage.prompt_tokens
        assert record["output_tokens"] == answer.usage.completion_tokens
        assert record["total_tokens"] == answer.usage.total_tokens
        # gpt-4o-mini from the genai-prices catalog: $0.15 / $0.60 per million tokens.
        expected = (
            Decimal(answer.usage.prompt_tokens) * Decimal("0.15")
            + Decimal(answer.usage.completion_tokens) * Decimal("0.60")
        ) / 1_000_000
        assert Decimal(record["cost_usd"]) == expected
    assert (ended["outcome"], call["attempt_count"]) == ("ok", 1)


def test_a_failed_attempt_that_reported_usage_is_charged_with_the_one_that_served(
    wired: Wired,
) -> None:
    admin = wired.broker.admin
    admin.call("POST", "/pools", {"name": "flaky", "match_when": {"request.model": ["flaky"]}})
    # Priced like the model it fakes, which the catalog knows by its real name only.
    prices = {"input_price": "3.00", "output_price": "15.00"}
    admin.call("PATCH", "/models/anthropic-stream-overloaded", prices)
    for priority, member in enumerate(("anthropic-stream-overloaded", "anthropic-prod")):
        admin.call("PUT", f"/pools/flaky/members/{member}", {"priority": priority})
    token = admin.agent("flaky-agent")
    ceiling = {"scope_kind": "agent", "scope_name": "flaky-agent", "metric": "tokens"}
    admin.call("PUT", "/budgets", {**ceiling, "period": "day", "limit": "1000000"})
    with anthropic.Anthropic(base_url=wired.broker.url + "/v1", api_key=token) as client:
        with client.messages.stream(
            model="flaky", max_tokens=64, messages=[{"role": "user", "content": "fail over"}]
        ) as stream:
            final = stream.get_final_message()
    call_id = newest_call(wired, model="flaky")["call_id"]
    failed, served, ended = records_of(wired, call_id, 3)
    call = newest_call(wired, model="flaky")  # the view, once every record is in
    assert (failed["model_entry"], failed["outcome"]) == (
        "anthropic-stream-overloaded",
        "stream_broken",
    )
    assert (served["model_entry"], served["outcome"]) == ("anthropic-prod", "ok")
    assert failed["input_tokens"] > 0  # message_start had arrived with the error
    assert served["output_tokens"] == final.usage.output_tokens
    assert ended["input_tokens"] == failed["input_tokens"] + served["input_tokens"]
    assert ended["output_tokens"] == failed["output_tokens"] + served["output_tokens"]
    assert Decimal(ended["cost_usd"]) == Decimal(failed["cost_usd"]) + Decimal(served["cost_usd"])
    assert (ended["outcome"], call["attempt_count"]) == ("ok", 2)
    # The budget is charged both attempts too.
    deadline = time.monotonic() + 5
    while True:
        (status,) = admin.call("GET", "/budgets/status?agent=flaky-agent")["data"]
        if status["reserved"] == "0" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert int(status["used"]) == ended["total_tokens"]


def test_a_stream_the_agent_did_not_meter_is_metered_anyway(wired: Wired) -> None:
    wired.openai.reset()
    with openai.OpenAI(base_url=wired.broker.url + "/v1", api_key=wired.token) as client:
        chunks = list(
            client.chat.completions.create(
                model="gpt-prod", stream=True, messages=[{"role": "user", "content": "meter me"}]
            )
        )
    assert chunks
    assert all(chunk.usage is None for chunk in chunks)
    assert all(chunk.choices for chunk in chunks)  # the usage-only chunk was held back
    sent = wired.openai.requests[-1].json()
    assert sent["stream_options"] == {"include_usage": True}
    call = newest_call(wired, model="gpt-prod", outcome="ok")
    assert call["input_tokens"] > 0
    assert call["output_tokens"] > 0
    assert call["usage_estimated"] is False


def test_an_agent_that_hangs_up_is_charged_what_was_delivered(wired: Wired) -> None:
    body = {
        "model": "openai-slow",
        "stream": True,
        "messages": [{"role": "user", "content": "a long story, slowly told"}],
    }
    headers = {"authorization": f"Bearer {wired.token}"}
    url = wired.broker.url + "/v1/chat/completions"
    with httpx.stream("POST", url, json=body, headers=headers, timeout=10) as response:
        data = (line for line in response.iter_lines() if line.startswith("data: "))
        received = [next(data), next(data), next(data)]
    assert len(received) == 3
    call = newest_call(wired, model="openai-slow", outcome="client_disconnected")
    # The provider's usage comes last: never sent, so the broker charges what it relayed.
    assert call["usage_estimated"] is True
    assert call["input_tokens"] > 0
    assert call["output_tokens"] >= 3


def test_bad_questions_to_the_audit_api_are_400s_naming_the_field(wired: Wired) -> None:
    admin = wired.broker.admin
    for path, field in (
        ("/audit/calls?since=yesterday", "since"),
        ("/audit/calls?limit=0", "limit"),
        ("/audit/calls?limit=x", "limit"),
        ("/audit/calls?agent=%20", "agent"),
        ("/spend?by=colour", "by"),
        ("/spend?by=agent&until=2026-13-01", "until"),
    ):
        response = httpx.get(
            admin.url + "/admin/v1" + path,
            headers={"authorization": f"Bearer {admin.token}"},
            timeout=10,
        )
        assert response.status_code == 400, path
        assert response.json()["error"]["message"].startswith(field), path
