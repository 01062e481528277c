"""Same-format forwarding: the body stays byte-faithful except the model name; the
agent's credentials never reach the provider; the provider's credential is added."""

from __future__ import annotations

import httpx

from tests.integration.conftest import Wired

ODD_BODY = (
    b'{ "messages" : [ {"role":"user","content":"caf\\u00e9 \\"quoted\\" {model}"} ],\n'
    b'  "model":"gpt-prod", "temperature": 1.0e0, "metadata": {"model": "keep-me", "n": "[1, 2.50]"},'
    b' "max_tokens":7 }'
)


def test_body_is_forwarded_byte_for_byte_except_the_model(wired: Wired) -> None:
    response = httpx.post(
        wired.broker.url + "/v1/chat/completions",
        content=ODD_BODY,
        timeout=10,
        headers={
            "authorization": f"Bearer {wired.token}",
            "content-type": "application/json",
            "x-api-key": "sk-agent-own-key",
            "openai-organization": "org-agent",
        },
    )
    assert response.status_code == 200, response.text
    sent = wired.openai.last_request
    assert sent.body == ODD_BODY.replace(b'"model":"gpt-prod"', b'"model":"gpt-4o-mini"')
    assert sent.headers["authorization"] == f"Bearer {wired.openai.api_key}"
    assert "x-api-key" not in sent.headers
    assert "openai-organization" not in sent.headers
    assert wired.token not in str(sent.headers)


def test_body_is_untouched_when_the_model_id_is_requested(wired: Wired) -> None:
    body = ODD_BODY.replace(b'"model":"gpt-prod"', b'"model":"gpt-4o-mini"')
    httpx.post(
        wired.broker.url + "/v1/chat/completions",
        content=body,
        timeout=10,
        headers={"authorization": f"Bearer {wired.token}", "content-type": "application/json"},
    ).raise_for_status()
    assert wired.openai.last_request.body == body


def test_anthropic_headers_travel_and_agent_auth_does_not(wired: Wired) -> None:
    body = b'{"model":"anthropic-prod","max_tokens":9,"messages":[{"role":"user","content":"hi"}],"metadata":{"user_id":"u1"}}'
    response = httpx.post(
        wired.broker.url + "/v1/messages?beta=true",
        content=body,
        timeout=10,
        headers={
            "x-api-key": wired.token,
            "anthropic-version": "2023-06-01",
            "anthropic-beta": "fine-grained-tool-streaming-2025-05-14",
            "content-type": "application/json",
        },
    )
    assert response.status_code == 200, response.text
    sent = wired.anthropic.last_request
    assert sent.headers["x-api-key"] == wired.anthropic.api_key
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["anthropic-beta"] == "fine-grained-tool-streaming-2025-05-14"
    assert "authorization" not in sent.headers
    assert sent.body == body.replace(b'"anthropic-prod"', b'"claude-sonnet-4-6"')
    # The provider's request id reaches the agent, as the SDK exposes it.
    assert response.headers.get("request-id")
