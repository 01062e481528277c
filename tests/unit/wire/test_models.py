"""Model lists in both shapes, and Anthropic's cursor paging."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from anthropic.types import ModelInfo
from openai.types import Model

from dome.errors import InvalidRequestError
from dome.wire.models import ListedModel, anthropic_model_page, openai_model_list

MODELS = [ListedModel(f"m{i}", "mock", datetime(2026, 1, 1, tzinfo=UTC)) for i in range(5)]


def page(**query: str) -> dict[str, object]:
    result: dict[str, object] = orjson.loads(anthropic_model_page(MODELS, query))
    return result


def ids(result: dict[str, object]) -> list[str]:
    data = result["data"]
    assert isinstance(data, list)
    return [item["id"] for item in data]


def test_openai_shape_parses_as_the_sdk_type() -> None:
    body = orjson.loads(openai_model_list(MODELS))
    assert body["object"] == "list"
    assert [Model.model_validate(item).id for item in body["data"]] == [
        "m0",
        "m1",
        "m2",
        "m3",
        "m4",
    ]


def test_anthropic_shape_parses_as_the_sdk_type() -> None:
    result = page()
    data = result["data"]
    assert isinstance(data, list)
    assert ModelInfo.model_validate(data[0]).created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert (result["has_more"], result["first_id"], result["last_id"]) == (False, "m0", "m4")


def test_paging_forward_and_back() -> None:
    assert ids(page(limit="2")) == ["m0", "m1"]
    assert page(limit="2")["has_more"] is True
    assert ids(page(limit="2", after_id="m1")) == ["m2", "m3"]
    assert page(limit="2", after_id="m3") == {
        "data": [
            {
                "type": "model",
                "id": "m4",
                "display_name": "m4",
                "created_at": "2026-01-01T00:00:00Z",
                "lifecycle": "active",
            }
        ],
        "has_more": False,
        "first_id": "m4",
        "last_id": "m4",
    }
    assert ids(page(limit="2", before_id="m4")) == ["m2", "m3"]
    assert page(limit="2", before_id="m4")["has_more"] is True
    assert ids(page(limit="2", before_id="m1")) == ["m0"]
    assert page(limit="2", before_id="m1")["has_more"] is False


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "x"}, "limit: expected an integer"),
        ({"limit": "1001"}, "limit: must be"),
        ({"after_id": "zz"}, "after_id: unknown"),
    ],
)
def test_bad_paging_is_a_clear_400(query: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        anthropic_model_page(MODELS, query)
