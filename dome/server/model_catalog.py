"""`GET /v1/models` and `GET /v1/models/{id}`: the names an agent may ask for.

Answered in the shape of the SDK that asks: the Anthropic SDK always sends
`anthropic-version`, the OpenAI SDK never does. Errors come in that same format.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import orjson

from dome.errors import DomeError, NotFoundError
from dome.server.asgi import JSON_HEADERS, Scope, Send, header, send_bytes
from dome.server.auth import authenticate
from dome.server.authorization import call_context
from dome.wire.anthropic.errors import error_body as anthropic_error_body
from dome.wire.facts import RequestFacts
from dome.wire.models import (
    ListedModel,
    anthropic_model,
    anthropic_model_page,
    openai_model,
    openai_model_list,
)
from dome.wire.openai.errors import error_body as openai_error_body

if TYPE_CHECKING:
    from dome.server.runtime import Runtime
    from dome.store.snapshot import Agent


async def answer_models(runtime: Runtime, scope: Scope, send: Send, model_id: str | None) -> None:
    anthropic = header(scope, b"anthropic-version") is not None
    try:
        agent = authenticate(runtime, scope)
        body = _models_body(runtime, scope, agent, model_id, anthropic=anthropic)
    except DomeError as error:
        render = anthropic_error_body if anthropic else openai_error_body
        body = render(error.status_code, None, error.message, param=error.param)
        await send_bytes(send, error.status_code, body, JSON_HEADERS)
        return
    await send_bytes(send, 200, body, JSON_HEADERS)


def _models_body(
    runtime: Runtime, scope: Scope, agent: Agent, model_id: str | None, *, anthropic: bool
) -> bytes:
    models = listed_models(runtime, permitted_entries(runtime, scope, agent, anthropic=anthropic))
    if model_id is not None:
        found = next((model for model in models if model.id == model_id), None)
        if found is None:
            raise NotFoundError(f"model {model_id!r} is not configured on this broker")
        return orjson.dumps(anthropic_model(found) if anthropic else openai_model(found))
    if anthropic:
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        return anthropic_model_page(models, query)
    return openai_model_list(models)


def permitted_entries(
    runtime: Runtime, scope: Scope, agent: Agent, *, anthropic: bool
) -> frozenset[str]:
    """The servable entries this agent may both list and invoke (two Cedar batches).

    Listing is asked with the classification the agent's calls would carry and no
    tokens, so a rule capping tokens or stream use does not hide a model.
    """
    names = sorted(runtime.routes.providers)
    if not names:
        return frozenset()
    facts = RequestFacts(
        format="anthropic" if anthropic else "openai",
        operation="chat",
        model="",
        stream=False,
        max_output_tokens=None,
        include_usage=False,
    )
    context = replace(call_context(runtime, scope, agent, facts, body_size=0), estimated_tokens=0)
    engine = runtime.routes.policy
    listable = engine.allowed_resources(agent.name, "list_models", names, context)
    return frozenset(engine.allowed_resources(agent.name, "invoke", listable, context))


def listed_models(runtime: Runtime, permitted: frozenset[str]) -> list[ListedModel]:
    """Every permitted servable entry name, then each provider model id it answers to."""
    routes = runtime.routes
    entries = [
        routes.snapshot.models[name] for name in sorted(routes.providers) if name in permitted
    ]
    listed = {
        entry.name: ListedModel(entry.name, entry.provider, entry.created_at) for entry in entries
    }
    for entry in entries:
        if routes.by_provider_model.get(entry.model) is entry and entry.model not in listed:
            listed[entry.model] = ListedModel(entry.model, entry.provider, entry.created_at)
    return list(listed.values())
