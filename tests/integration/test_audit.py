"""Every call leaves one audit record, readable through the admin API."""

from __future__ import annotations

import time
from typing import Any

import httpx
import openai

from tests.integration.conftest import Wired


def audit_record(wired: Wired, predicate: Any, timeout: float = 5) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in wired.broker.admin.call("GET", "/audit?limit=200")["data"]:
            if predicate(record):
                return dict(record)
        time.sleep(0.1)
    raise AssertionError("no matching audit record")


def test_a_streamed_call_is_audited_with_usage_and_ttft(wired: Wired) -> None:
    with openai.OpenAI(
        base_url=wired.broker.url + "/v1", api_key=wired.token, max_retries=0
    ) as client:
        chunks = list(
            client.chat.completions.create(
                model="gpt-prod",
                stream=True,
                stream_options={"include_usage": True},
                messages=[{"role": "user", "content": "audit me please"}],
            )
        )
    usage = chunks[-1].usage
    assert usage is not None
    record = audit_record(wired, lambda r: r["requested_model"] == "gpt-prod" and r["stream"])
    assert record["agent"] == "agent-1"
    assert record["workspace"] == "ws"
    assert record["tenant"] == "t"
    assert record["served_model"] == "gpt-4o-mini"
    assert record["provider"] == "openai"
    assert record["format_in"] == record["format_out"] == "openai"
    assert record["status"] == 200
    assert record["input_tokens"] == usage.prompt_tokens
    assert record["output_tokens"] == usage.completion_tokens
    assert record["usage"]["total_tokens"] == usage.total_tokens
    assert 0 < record["ttft_ms"] <= record["latency_ms"]


def test_failures_are_audited_too(wired: Wired) -> None:
    httpx.post(wired.broker.url + "/v1/messages", content=b"{}", headers={"x-api-key": "bogus"})
    record = audit_record(wired, lambda r: r["status"] == 401 and r["format_in"] == "anthropic")
    assert record["agent"] is None
    assert record["error_type"] == "authentication_error"
    body = {
        "model": "anthropic-stream-cut",
        "max_tokens": 5,
        "stream": True,
        "messages": [{"role": "user", "content": "x"}],
    }
    httpx.post(wired.broker.url + "/v1/messages", json=body, headers={"x-api-key": wired.token})
    record = audit_record(wired, lambda r: r["requested_model"] == "anthropic-stream-cut")
    assert record["status"] == 502
    assert record["error_type"] == "upstream_stream_broken"
    assert record["input_tokens"] is not None  # message_start had arrived before the cut


def test_client_disconnect_is_audited(wired: Wired) -> None:
    body = {
        "model": "openai-slow",
        "stream": True,
        "messages": [{"role": "user", "content": "a long story"}],
    }
    with httpx.stream(
        "POST",
        wired.broker.url + "/v1/chat/completions",
        json=body,
        timeout=10,
        headers={"authorization": f"Bearer {wired.token}"},
    ) as response:
        next(response.iter_lines())
    record = audit_record(wired, lambda r: r["requested_model"] == "openai-slow")
    assert record["status"] == 499
    assert record["error_type"] == "client_disconnected"


def test_client_disconnect_during_a_whole_answer_cancels_and_is_audited(wired: Wired) -> None:
    body = {
        "model": "anthropic-slow",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "wait"}],
    }
    try:
        httpx.post(
            wired.broker.url + "/v1/messages",
            json=body,
            headers={"x-api-key": wired.token},
            timeout=0.05,
        )
    except httpx.ReadTimeout:
        pass
    else:
        raise AssertionError("the slow upstream answered within 50 ms")
    record = audit_record(wired, lambda r: r["requested_model"] == "anthropic-slow")
    assert record["status"] == 499
    assert record["latency_ms"] < 200  # cancelled, not waited out
