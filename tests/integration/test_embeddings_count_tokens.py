"""Embeddings (OpenAI format) and token counting (Anthropic format), forwarded."""

from __future__ import annotations

import anthropic
import httpx
import openai

from tests.integration.conftest import Wired
from tests.integration.test_audit import audit_record


def test_openai_sdk_embeddings_through_the_broker(wired: Wired) -> None:
    with openai.OpenAI(
        base_url=wired.broker.url + "/v1", api_key=wired.token, max_retries=0
    ) as client:
        result = client.embeddings.create(model="gpt-prod", input=["first text", "second"])
    assert len(result.data) == 2
    assert len(result.data[0].embedding) > 0
    sent = wired.openai.last_request
    assert sent.path == "/v1/embeddings"
    assert sent.json()["model"] == "gpt-4o-mini"
    assert sent.headers["authorization"] == f"Bearer {wired.openai.api_key}"
    record = audit_record(wired, lambda r: r["endpoint"] == "embeddings")
    assert (record["served_model"], record["status"]) == ("gpt-4o-mini", 200)
    assert record["input_tokens"] == result.usage.prompt_tokens


def test_embeddings_need_input(wired: Wired) -> None:
    response = httpx.post(
        wired.broker.url + "/v1/embeddings",
        json={"model": "gpt-prod"},
        headers={"authorization": f"Bearer {wired.token}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input"


def test_anthropic_sdk_count_tokens_through_the_broker(wired: Wired) -> None:
    with anthropic.Anthropic(
        base_url=wired.broker.url, api_key=wired.token, max_retries=0
    ) as client:
        counted = client.messages.count_tokens(
            model="claude-sonnet-4-6",
            messages=[{"role": "user", "content": "count these words please"}],
        )
    assert counted.input_tokens > 0
    sent = wired.anthropic.last_request
    assert sent.path == "/v1/messages/count_tokens"
    assert sent.headers["x-api-key"] == wired.anthropic.api_key


def test_count_tokens_on_a_provider_without_it_is_a_marked_estimate(wired: Wired) -> None:
    def count(content: object) -> httpx.Response:
        return httpx.post(
            wired.broker.url + "/v1/messages/count_tokens",
            json={"model": "demo", "messages": [{"role": "user", "content": content}]},
            headers={"x-api-key": wired.token, "anthropic-version": "2023-06-01"},
        )

    text_only = count("x" * 40)
    image = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    text_block = {"type": "text", "text": "x" * 40}
    with_image = count([text_block, image])
    without_image = count([text_block, {**text_block, "text": ""}])
    assert text_only.status_code == 200
    assert text_only.headers["x-dome-estimated"] == "true"
    assert text_only.json() == {"input_tokens": 10, "estimated": True}  # 4 chars a token
    # A full-size image's cost, over the same text blocks.
    assert with_image.json()["input_tokens"] == without_image.json()["input_tokens"] + 1600


def test_embeddings_on_a_provider_without_them_is_a_clear_400(wired: Wired) -> None:
    response = httpx.post(
        wired.broker.url + "/v1/embeddings",
        json={"model": "anthropic-prod", "input": "x"},
        headers={"authorization": f"Bearer {wired.token}"},
    )
    assert response.status_code == 400
    assert "embeddings" in response.json()["error"]["message"]
