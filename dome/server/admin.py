"""The control plane at /admin/v1/*: what the `dome` CLI and scripts call.

Each handler writes through the store and then reloads this process's snapshot, so a
change is live here at once (other processes pick it up by polling the version).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dome.credentials import AGENT_TOKEN_PREFIX, hashes_equal, new_token, token_hash, visible_prefix
from dome.errors import DomeError, InvalidRequestError, NotFoundError, UnauthenticatedError
from dome.server.admin_audit import audit_routes
from dome.server.admin_budgets import budget_routes
from dome.server.admin_http import Handler, error_response, json_response, read_body
from dome.server.admin_routes import route_routes
from dome.server.admin_rules import rules_routes
from dome.server.bootstrap import ADMIN_TOKEN_HASH
from dome.server.model_input import (
    read_agent_attributes,
    read_model_attributes,
    read_model_input,
    read_pool_changes,
    read_pool_member,
    read_tenant_attributes,
    read_workspace_attributes,
)
from dome.server.rotation import rotate_master_key
from dome.server.runtime import Runtime
from dome.server.views import (
    agent_view,
    audit_view,
    model_view,
    pool_view,
    tenant_view,
    workspace_view,
)
from dome.store import AgentRow, ConfigRows, ModelRow, PoolRow, WorkspaceRow, given_or
from dome.store.snapshot import credential_context

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$")


_body = read_body


def _name(body: dict[str, Any], field: str = "name") -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"{field}: field required", param=field)
    if not _NAME.match(value):
        msg = f"{field}: use letters, digits and . _ : @ / - (at most 128), starting alphanumeric"
        raise InvalidRequestError(msg, param=field)
    return value


async def create_tenant(request: Request, runtime: Runtime) -> Response:
    body = await _body(request)
    name = _name(body)
    attributes = read_tenant_attributes(body, also=("name",))
    row = await runtime.store.create_tenant(name, region=given_or(attributes.region, None))
    await runtime.reload()
    return json_response(tenant_view(row), 201)


async def update_tenant(request: Request, runtime: Runtime) -> Response:
    attributes = read_tenant_attributes(await _body(request))
    row = await runtime.store.update_tenant(request.path_params["name"], region=attributes.region)
    await runtime.reload()
    return json_response(tenant_view(row))


async def list_tenants(_: Request, runtime: Runtime) -> Response:
    rows = await runtime.store.load_config()
    return json_response({"data": [tenant_view(row) for row in rows.tenants]})


async def create_workspace(request: Request, runtime: Runtime) -> Response:
    body = await _body(request)
    name, tenant = _name(body), _name(body, "tenant")
    attributes = read_workspace_attributes(body, also=("name", "tenant"))
    row = await runtime.store.create_workspace(
        name,
        tenant,
        residency=given_or(attributes.residency, ""),
        max_classification=given_or(attributes.max_classification, "restricted"),
        classification_default=given_or(attributes.classification_default, None),
        classification_floor=given_or(attributes.classification_floor, None),
        region=given_or(attributes.region, None),
    )
    await runtime.reload()
    return json_response(workspace_view(row), 201)


async def list_workspaces(_: Request, runtime: Runtime) -> Response:
    rows = await runtime.store.load_config()
    return json_response({"data": [workspace_view(row) for row in rows.workspaces]})


async def show_workspace(request: Request, runtime: Runtime) -> Response:
    rows = await runtime.store.load_config()
    return json_response(workspace_view(_workspace_row(rows, request.path_params["name"])))


async def update_workspace(request: Request, runtime: Runtime) -> Response:
    attributes = read_workspace_attributes(await _body(request))
    row = await runtime.store.update_workspace(
        request.path_params["name"],
        residency=attributes.residency,
        max_classification=attributes.max_classification,
        classification_default=attributes.classification_default,
        classification_floor=attributes.classification_floor,
        region=attributes.region,
    )
    await runtime.reload()
    return json_response(workspace_view(row))


async def create_agent(request: Request, runtime: Runtime) -> Response:
    body = await _body(request)
    name, workspace = _name(body), _name(body, "workspace")
    attributes = read_agent_attributes(body, also=("name", "workspace"))
    token = new_token(AGENT_TOKEN_PREFIX)
    row = await runtime.store.create_agent(
        name,
        workspace,
        token_hash(runtime.token_key, token),
        visible_prefix(token),
        labels=given_or(attributes.labels, ()),
        classification_default=given_or(attributes.classification_default, None),
        classification_floor=given_or(attributes.classification_floor, None),
    )
    await runtime.reload()
    view = agent_view(row, _tenant_of(runtime, row.workspace))
    return json_response({**view, "token": token}, 201)


async def list_agents(_: Request, runtime: Runtime) -> Response:
    rows = await runtime.store.load_config()
    tenants = {workspace.name: workspace.tenant for workspace in rows.workspaces}
    return json_response(
        {"data": [agent_view(row, tenants.get(row.workspace)) for row in rows.agents]}
    )


async def show_agent(request: Request, runtime: Runtime) -> Response:
    rows = await runtime.store.load_config()
    row = _agent_row(rows, request.path_params["name"])
    return json_response(agent_view(row, _workspace_row(rows, row.workspace).tenant))


async def update_agent(request: Request, runtime: Runtime) -> Response:
    attributes = read_agent_attributes(await _body(request))
    row = await runtime.store.update_agent(
        request.path_params["name"],
        labels=attributes.labels,
        classification_default=attributes.classification_default,
        classification_floor=attributes.classification_floor,
    )
    await runtime.reload()
    return json_response(agent_view(row, _tenant_of(runtime, row.workspace)))


async def revoke_agent(request: Request, runtime: Runtime) -> Response:
    row = await runtime.store.revoke_agent(request.path_params["name"])
    await runtime.reload()
    return json_response(agent_view(row, _tenant_of(runtime, row.workspace)))


def _tenant_of(runtime: Runtime, workspace: str) -> str | None:
    return runtime.snapshot.tenant_of_workspace.get(workspace)


async def add_model(request: Request, runtime: Runtime) -> Response:
    model = read_model_input(await _body(request))
    _name({"name": model.name})
    async with runtime.credential_writes:
        credential = None
        if model.credential is not None:
            credential = runtime.keyring.encrypt(
                model.credential.encode(), context=credential_context(model.name)
            )
        row = await runtime.store.add_model(
            ModelRow(
                name=model.name,
                provider=model.provider,
                model=model.model,
                base_url=model.base_url,
                auth_method=model.auth_method,
                credential_type=model.credential_type,
                credential=credential,
                region=model.region,
                tier=model.tier,
                family=model.family,
                input_price=model.input_price,
                output_price=model.output_price,
            )
        )
    await runtime.reload()
    return json_response(model_view(row), 201)


async def update_model(request: Request, runtime: Runtime) -> Response:
    attributes = read_model_attributes(await _body(request))
    row = await runtime.store.update_model(
        request.path_params["name"],
        region=attributes.region,
        tier=attributes.tier,
        family=attributes.family,
        input_price=attributes.input_price,
        output_price=attributes.output_price,
    )
    await runtime.reload()
    return json_response(model_view(row))


async def list_models(_: Request, runtime: Runtime) -> Response:
    rows = await runtime.store.load_config()
    return json_response({"data": [model_view(row) for row in rows.models]})


async def show_model(request: Request, runtime: Runtime) -> Response:
    return json_response(model_view(await _model_row(request, runtime)))


async def _model_row(request: Request, runtime: Runtime) -> ModelRow:
    name = request.path_params["name"]
    rows = await runtime.store.load_config()
    for row in rows.models:
        if row.name == name:
            return row
    raise NotFoundError(f"model {name!r} not found")


def _agent_row(rows: ConfigRows, name: str) -> AgentRow:
    for row in rows.agents:
        if row.name == name:
            return row
    raise NotFoundError(f"agent {name!r} not found")


def _workspace_row(rows: ConfigRows, name: str) -> WorkspaceRow:
    for row in rows.workspaces:
        if row.name == name:
            return row
    raise NotFoundError(f"workspace {name!r} not found")


async def remove_model(request: Request, runtime: Runtime) -> Response:
    await runtime.store.remove_model(request.path_params["name"])
    await runtime.reload()
    return Response(status_code=204)


async def set_model_credential(request: Request, runtime: Runtime) -> Response:
    name = request.path_params["name"]
    body = await _body(request)
    secret = body.get("credential")
    if not isinstance(secret, str) or not secret:
        raise InvalidRequestError("credential: field required", param="credential")
    current = await _model_row(request, runtime)
    if current.provider == "mock":
        raise InvalidRequestError("credential: the mock provider takes no credential")
    async with runtime.credential_writes:
        ciphertext = runtime.keyring.encrypt(secret.encode(), context=credential_context(name))
        row = await runtime.store.set_model_credential(name, ciphertext)
    await runtime.reload()
    return json_response(model_view(row))


async def create_pool(request: Request, runtime: Runtime) -> Response:
    body = await _body(request)
    name = _name(body)
    changes = read_pool_changes(body, also=("name",))
    row = await runtime.store.create_pool(
        name,
        match_when=given_or(changes.match_when, {}),
        strategy=given_or(changes.strategy, "priority"),
        order=given_or(changes.order, 0),
    )
    await runtime.reload()
    return json_response(pool_view(row), 201)


async def list_pools(_: Request, runtime: Runtime) -> Response:
    rows = await runtime.store.load_config()
    return json_response({"data": [pool_view(row) for row in rows.pools]})


async def show_pool(request: Request, runtime: Runtime) -> Response:
    rows = await runtime.store.load_config()
    return json_response(pool_view(_pool_row(rows, request.path_params["name"])))


async def update_pool(request: Request, runtime: Runtime) -> Response:
    changes = read_pool_changes(await _body(request))
    row = await runtime.store.update_pool(
        request.path_params["name"],
        match_when=changes.match_when,
        strategy=changes.strategy,
        order=changes.order,
    )
    await runtime.reload()
    return json_response(pool_view(row))


async def remove_pool(request: Request, runtime: Runtime) -> Response:
    await runtime.store.remove_pool(request.path_params["name"])
    await runtime.reload()
    return Response(status_code=204)


async def put_pool_member(request: Request, runtime: Runtime) -> Response:
    """Add the model to the pool, or set the member's priority and weight."""
    member = read_pool_member(await _body(request))
    row = await runtime.store.add_pool_member(
        request.path_params["name"],
        request.path_params["model"],
        priority=member.priority,
        weight=member.weight,
    )
    await runtime.reload()
    return json_response(pool_view(row))


async def remove_pool_member(request: Request, runtime: Runtime) -> Response:
    path = request.path_params
    row = await runtime.store.remove_pool_member(path["name"], path["model"])
    await runtime.reload()
    return json_response(pool_view(row))


def _pool_row(rows: ConfigRows, name: str) -> PoolRow:
    for row in rows.pools:
        if row.name == name:
            return row
    raise NotFoundError(f"pool {name!r} not found")


async def rotate_key(_: Request, runtime: Runtime) -> Response:
    active, count = await rotate_master_key(runtime)
    return json_response({"active_key_id": active, "reencrypted": count})


async def audit_tail(request: Request, runtime: Runtime) -> Response:
    try:
        limit = int(request.query_params.get("limit", "20"))
    except ValueError as exc:
        raise InvalidRequestError("limit: expected an integer", param="limit") from exc
    if not 1 <= limit <= 1000:
        raise InvalidRequestError("limit: must be between 1 and 1000", param="limit")
    rows = await runtime.store.tail_audit(limit)
    return json_response({"data": [audit_view(row) for row in rows]})


def create_admin_app(runtime: Runtime) -> Starlette:
    def bind(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                await _authorize(request, runtime)
                return await handler(request, runtime)
            except DomeError as error:
                return error_response(error)

        return endpoint

    prefix = "/admin/v1"
    routes = [
        Route(f"{prefix}/tenants", bind(create_tenant), methods=["POST"]),
        Route(f"{prefix}/tenants", bind(list_tenants), methods=["GET"]),
        Route(f"{prefix}/tenants/{{name:path}}", bind(update_tenant), methods=["PATCH"]),
        Route(f"{prefix}/workspaces", bind(create_workspace), methods=["POST"]),
        Route(f"{prefix}/workspaces", bind(list_workspaces), methods=["GET"]),
        Route(f"{prefix}/workspaces/{{name:path}}", bind(show_workspace), methods=["GET"]),
        Route(f"{prefix}/workspaces/{{name:path}}", bind(update_workspace), methods=["PATCH"]),
        Route(f"{prefix}/agents", bind(create_agent), methods=["POST"]),
        Route(f"{prefix}/agents", bind(list_agents), methods=["GET"]),
        Route(f"{prefix}/agents/{{name:path}}/revoke", bind(revoke_agent), methods=["POST"]),
        Route(f"{prefix}/agents/{{name:path}}", bind(show_agent), methods=["GET"]),
        Route(f"{prefix}/agents/{{name:path}}", bind(update_agent), methods=["PATCH"]),
        Route(f"{prefix}/models", bind(add_model), methods=["POST"]),
        Route(f"{prefix}/models", bind(list_models), methods=["GET"]),
        Route(
            f"{prefix}/models/{{name:path}}/credential", bind(set_model_credential), methods=["PUT"]
        ),
        Route(f"{prefix}/models/{{name:path}}", bind(show_model), methods=["GET"]),
        Route(f"{prefix}/models/{{name:path}}", bind(update_model), methods=["PATCH"]),
        Route(f"{prefix}/models/{{name:path}}", bind(remove_model), methods=["DELETE"]),
        *_pool_routes(prefix, bind),
        Route(f"{prefix}/master-key/rotate", bind(rotate_key), methods=["POST"]),
        Route(f"{prefix}/audit", bind(audit_tail), methods=["GET"]),
        *rules_routes(prefix, bind),
        *route_routes(prefix, bind),
        *budget_routes(prefix, bind),
        *audit_routes(prefix, bind),
    ]
    return Starlette(routes=routes)


def _pool_routes(
    prefix: str, bind: Callable[[Handler], Callable[[Request], Awaitable[Response]]]
) -> list[Route]:
    # Member routes first: `{name:path}` alone would take "p/members/m" as a pool name.
    member = f"{prefix}/pools/{{name:path}}/members/{{model:path}}"
    pool = f"{prefix}/pools/{{name:path}}"
    return [
        Route(member, bind(put_pool_member), methods=["PUT"]),
        Route(member, bind(remove_pool_member), methods=["DELETE"]),
        Route(f"{prefix}/pools", bind(create_pool), methods=["POST"]),
        Route(f"{prefix}/pools", bind(list_pools), methods=["GET"]),
        Route(pool, bind(show_pool), methods=["GET"]),
        Route(pool, bind(update_pool), methods=["PATCH"]),
        Route(pool, bind(remove_pool), methods=["DELETE"]),
    ]


async def _authorize(request: Request, runtime: Runtime) -> None:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError(
            "missing admin token: send 'Authorization: Bearer <admin token>'"
        )
    expected = await runtime.store.get_key(ADMIN_TOKEN_HASH)
    digest = token_hash(runtime.token_key, token.strip())
    if expected is None or not hashes_equal(expected.decode(), digest):
        raise UnauthenticatedError("invalid admin token")
