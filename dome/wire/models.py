"""`GET /v1/models` in each SDK's shape: the OpenAI list, or Anthropic's paged list.

WIRE-FORMATS 2.6 (OpenAI `{"object": "list", "data": [Model]}`) and 3.6 (Anthropic
`{"data": [ModelInfo], "has_more", "first_id", "last_id"}`, paged by `limit`,
`after_id`, `before_id`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from dome.errors import InvalidRequestError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ANTHROPIC_DEFAULT_LIMIT = 20
ANTHROPIC_MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class ListedModel:
    id: str
    owned_by: str
    created_at: datetime | None


def openai_model(model: ListedModel) -> dict[str, object]:
    created = model.created_at or _EPOCH
    return {
        "id": model.id,
        "object": "model",
        "created": int(created.timestamp()),
        "owned_by": model.owned_by,
    }


def openai_model_list(models: Sequence[ListedModel]) -> bytes:
    return orjson.dumps({"object": "list", "data": [openai_model(m) for m in models]})


def anthropic_model(model: ListedModel) -> dict[str, object]:
    created = (model.created_at or _EPOCH).astimezone(UTC)
    return {
        "type": "model",
        "id": model.id,
        "display_name": model.id,
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "lifecycle": "active",  # required by the current SDK's ModelInfo; we serve it now
    }


def anthropic_model_page(models: Sequence[ListedModel], query: Mapping[str, str]) -> bytes:
    """One page, as the Anthropic API pages: `after_id` / `before_id` exclusive cursors."""
    limit = _limit(query.get("limit"))
    ids = [model.id for model in models]
    start, stop = 0, len(models)
    if "after_id" in query:
        start = _position(ids, query["after_id"], "after_id") + 1
    if "before_id" in query:
        stop = _position(ids, query["before_id"], "before_id")
        start = max(start, stop - limit)
    page = models[start : min(stop, start + limit)]
    has_more = (start + len(page) < stop) if "before_id" not in query else start > 0
    return orjson.dumps(
        {
            "data": [anthropic_model(m) for m in page],
            "has_more": has_more,
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
        }
    )


def _limit(text: str | None) -> int:
    if text is None:
        return ANTHROPIC_DEFAULT_LIMIT
    try:
        value = int(text)
    except ValueError as exc:
        raise InvalidRequestError("limit: expected an integer", param="limit") from exc
    if not 1 <= value <= ANTHROPIC_MAX_LIMIT:
        msg = f"limit: must be between 1 and {ANTHROPIC_MAX_LIMIT}"
        raise InvalidRequestError(msg, param="limit")
    return value


def _position(ids: list[str], model_id: str, param: str) -> int:
    try:
        return ids.index(model_id)
    except ValueError as exc:
        raise InvalidRequestError(f"{param}: unknown model id {model_id!r}", param=param) from exc
