"""`GET /v1/models` answers each SDK in its own shape, with only servable names."""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest

from tests.integration.conftest import Wired


def test_openai_sdk_lists_and_retrieves(wired: Wired) -> None:
    with openai.OpenAI(
        base_url=wired.broker.url + "/v1", api_key=wired.token, max_retries=0
    ) as client:
        ids = [model.id for model in client.models.list()]
        assert "gpt-prod" in ids
        assert "gpt-4o-mini" in ids  # the provider id the entry also answers to
        assert "demo" in ids
        assert ids.index("anthropic-prod") < ids.index("claude-sonnet-4-6")
        model = client.models.retrieve("gpt-prod")
        assert (model.id, model.owned_by, model.object) == ("gpt-prod", "openai", "model")
        assert model.created > 0
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve("nope")


def test_anthropic_sdk_lists_pages_and_retrieves(wired: Wired) -> None:
    with anthropic.Anthropic(
        base_url=wired.broker.url, api_key=wired.token, max_retries=0
    ) as client:
        everything = [model.id for model in client.models.list(limit=3)]  # follows the pages
        first_page = client.models.list(limit=3)
        assert len(first_page.data) == 3
        assert first_page.has_more
        assert everything[:3] == [model.id for model in first_page.data]
        assert len(everything) == len(set(everything)) > 3
        info = client.models.retrieve("anthropic-prod")
        assert (info.id, info.type) == ("anthropic-prod", "model")
        with pytest.raises(anthropic.NotFoundError):
            client.models.retrieve("nope")


def test_model_list_needs_a_token_and_answers_errors_in_the_callers_format(wired: Wired) -> None:
    openai_shape = httpx.get(
        wired.broker.url + "/v1/models", headers={"authorization": "Bearer bad"}
    )
    assert openai_shape.status_code == 401
    assert "param" in openai_shape.json()["error"]
    anthropic_shape = httpx.get(
        wired.broker.url + "/v1/models",
        headers={"x-api-key": "bad", "anthropic-version": "2023-06-01"},
    )
    assert anthropic_shape.status_code == 401
    assert anthropic_shape.json()["type"] == "error"
    bad_limit = httpx.get(
        wired.broker.url + "/v1/models?limit=0",
        headers={"x-api-key": wired.token, "anthropic-version": "2023-06-01"},
    )
    assert bad_limit.status_code == 400
    assert "limit" in bad_limit.json()["error"]["message"]
