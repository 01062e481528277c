"""An in-memory fake of the admin API (docs/admin-api.md) behind httpx.MockTransport.

It follows the contract's paths, shapes, rules and error bodies, not the broker's code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote

import httpx

ADMIN_TOKEN = "adm-fake-token-0123456789"
PROVIDERS = frozenset({"openai", "anthropic", "openai-compatible", "mock"})
KEYED_PROVIDERS = frozenset({"openai", "anthropic"})
NOW = "2026-05-09T07:35:25.123456Z"
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
# The fields each PATCH accepts, and which of them may be null.
PATCHABLE: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "tenants": (frozenset({"region"}), frozenset({"region"})),
    "agents": (
        frozenset({"labels", "classification_default", "classification_floor"}),
        frozenset({"classification_default", "classification_floor"}),
    ),
    "workspaces": (
        frozenset(
            {
                "residency",
                "max_classification",
                "classification_default",
                "classification_floor",
                "region",
            }
        ),
        frozenset({"classification_default", "classification_floor", "region"}),
    ),
    "models": (
        frozenset({"region", "tier", "family", "input_price", "output_price"}),
        frozenset({"family", "input_price", "output_price"}),
    ),
}
MATCH_ATTRIBUTES = frozenset(
    {
        "request.model",
        "request.format",
        "request.stream",
        "request.classification",
        "agent.name",
        "agent.workspace",
        "agent.tenant",
        "request.region",
    }
)
STRATEGIES = ("priority", "weighted", "cost", "cascade")
REGION_PIN = re.compile(r"[a-z0-9-]{1,32}")

Record = dict[str, object]


class FakeAdminApi:
    """The admin API's contract in memory; `secrets` keeps what clients sent."""

    def __init__(self, token: str = ADMIN_TOKEN) -> None:
        self.token = token
        self.tenants: dict[str, Record] = {}
        self.workspaces: dict[str, Record] = {}
        self.agents: dict[str, Record] = {}
        self.models: dict[str, Record] = {}
        self.pools: dict[str, Record] = {}
        self.secrets: dict[str, str] = {}
        self.audit: list[Record] = []  # oldest first; the API answers newest first
        self.key_id = "k1"
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return error(401, "authentication_error", "invalid admin token")
        prefix = "/admin/v1/"
        if not request.url.path.startswith(prefix):
            return error(404, "not_found_error", "no such route")
        raw_path = request.url.raw_path.decode().partition("?")[0]
        parts = [unquote(part) for part in raw_path[len(prefix) :].split("/")]
        try:
            body = json.loads(request.content) if request.content else {}
        except ValueError:
            return error(400, "invalid_request_error", "body is not JSON")
        return self._route(request, parts, body)

    def _route(self, request: httpx.Request, parts: list[str], body: Record) -> httpx.Response:
        match request.method, parts:
            case "POST", ["tenants"]:
                return self._create_tenant(body)
            case "GET", ["tenants"]:
                return listing(self.tenants.values())
            case "PATCH", ["tenants", name]:
                return self._patch("tenants", name, body)
            case "POST", ["workspaces"]:
                return self._create_workspace(body)
            case "GET", ["workspaces"]:
                return listing(self.workspaces.values())
            case "GET", ["workspaces", name]:
                return self._show(self.workspaces, "workspace", name)
            case "POST", ["agents"]:
                return self._create_agent(body)
            case "GET", ["agents"]:
                return listing(self.agents.values())
            case "GET", ["agents", name]:
                return self._show(self.agents, "agent", name)
            case "PATCH", [("agents" | "workspaces" | "models") as kind, name]:
                return self._patch(kind, name, body)
            case "POST", ["agents", name, "revoke"]:
                return self._revoke_agent(name)
            case "POST", ["models"]:
                return self._create_model(body)
            case "GET", ["models"]:
                return listing(self.models.values())
            case "GET", ["models", name]:
                return self._with_model(name, lambda m: httpx.Response(200, json=m))
            case "DELETE", ["models", name]:
                return self._delete_model(name)
            case "PUT", ["models", name, "credential"]:
                return self._set_credential(name, body)
            case _, ["pools", *_]:
                return self._route_pools(request.method, parts[1:], body)
            case "POST", ["master-key", "rotate"]:
                return self._rotate()
            case "GET", ["audit"]:
                return self._audit(request)
        return error(404, "not_found_error", "no such route")

    def _route_pools(self, method: str, parts: list[str], body: Record) -> httpx.Response:
        match method, parts:
            case "POST", []:
                return self._create_pool(body)
            case "GET", []:
                return listing(self.pools.values())
            case "GET", [name]:
                return self._with_pool(name, lambda pool: httpx.Response(200, json=pool))
            case "PATCH", [name]:
                return self._patch_pool(name, body)
            case "DELETE", [name]:
                return self._with_pool(name, lambda _: self._delete_pool(name))
            case "PUT", [name, "members", model]:
                return self._with_pool(name, lambda pool: self._put_member(pool, model, body))
            case "DELETE", [name, "members", model]:
                return self._with_pool(name, lambda pool: self._remove_member(pool, model))
        return error(404, "not_found_error", "no such route")

    def add_audit(self, call_id: str, **fields: object) -> Record:
        record: Record = {
            "call_id": call_id,
            "started_at": NOW,
            "agent": "bot",
            "workspace": "ws",
            "tenant": "acme",
            "endpoint": "/v1/messages",
            "requested_model": "claude-sonnet-4-6",
            "served_model": "claude-sonnet-4-6",
            "model_entry": "anthropic-prod",
            "provider": "anthropic",
            "format_in": "anthropic",
            "format_out": "anthropic",
            "stream": False,
            "status": 200,
            "error_type": None,
            "latency_ms": 12.5,
            "ttft_ms": None,
            "input_tokens": 10,
            "output_tokens": 20,
            "usage": {"input_tokens": 10, "output_tokens": 20},
            "decision": "allow",
            "policy_ids": ["platform.grant"],
            **fields,
        }
        self.audit.append(record)
        return record

    def _create_tenant(self, body: Record) -> httpx.Response:
        name = body.get("name")
        if not isinstance(name, str) or not name:
            return error(400, "invalid_request_error", "name is required")
        if name in self.tenants:
            return error(409, "conflict_error", f"tenant {name!r} already exists")
        problem = unknown_field(body, {"name", "region"}) or attribute_problem(
            body, *PATCHABLE["tenants"]
        )
        if problem:
            return error(400, "invalid_request_error", problem)
        self.tenants[name] = {"name": name, "region": body.get("region"), "created_at": NOW}
        return httpx.Response(201, json=self.tenants[name])

    def _create_workspace(self, body: Record) -> httpx.Response:
        name, tenant = body.get("name"), body.get("tenant")
        if not isinstance(name, str) or not isinstance(tenant, str):
            return error(400, "invalid_request_error", "name and tenant are required")
        if tenant not in self.tenants:
            return error(404, "not_found_error", f"no tenant named {tenant!r}")
        if name in self.workspaces:
            return error(409, "conflict_error", f"workspace {name!r} already exists")
        problem = attribute_problem(body, *PATCHABLE["workspaces"])
        if problem:
            return error(400, "invalid_request_error", problem)
        self.workspaces[name] = {
            "name": name,
            "tenant": tenant,
            "residency": body.get("residency", ""),
            "max_classification": body.get("max_classification", "restricted"),
            "classification_default": body.get("classification_default"),
            "classification_floor": body.get("classification_floor"),
            "region": body.get("region"),
            "created_at": NOW,
        }
        return httpx.Response(201, json=self.workspaces[name])

    def _create_agent(self, body: Record) -> httpx.Response:
        name, workspace = body.get("name"), body.get("workspace")
        if not isinstance(name, str) or not isinstance(workspace, str):
            return error(400, "invalid_request_error", "name and workspace are required")
        if workspace not in self.workspaces:
            return error(404, "not_found_error", f"no workspace named {workspace!r}")
        if name in self.agents:
            return error(409, "conflict_error", f"agent {name!r} already exists")
        problem = attribute_problem(body, *PATCHABLE["agents"])
        if problem:
            return error(400, "invalid_request_error", problem)
        token = f"dome_{name}_s3cr3t-agent-token"
        self.agents[name] = {
            "name": name,
            "workspace": workspace,
            "tenant": self.workspaces[workspace]["tenant"],
            "token_prefix": token[:9],
            "status": "active",
            "labels": body.get("labels", []),
            "classification_default": body.get("classification_default"),
            "classification_floor": body.get("classification_floor"),
            "created_at": NOW,
            "revoked_at": None,
        }
        return httpx.Response(201, json={**self.agents[name], "token": token})

    def _revoke_agent(self, name: str) -> httpx.Response:
        if name not in self.agents:
            return error(404, "not_found_error", f"no agent named {name!r}")
        self.agents[name].update(status="revoked", revoked_at=NOW)
        return httpx.Response(200, json=self.agents[name])

    def _create_model(self, body: Record) -> httpx.Response:
        problem = model_problem(body)
        if problem:
            return error(400, "invalid_request_error", problem)
        name = str(body["name"])
        if name in self.models:
            return error(409, "conflict_error", f"model {name!r} already exists")
        if name in self.pools:
            return error(409, "conflict_error", f"a pool is named {name!r}")
        problem = attribute_problem(body, *PATCHABLE["models"])
        if problem:
            return error(400, "invalid_request_error", problem)
        credential = body.get("credential")
        if isinstance(credential, str):
            self.secrets[name] = credential
        model_id = str(body.get("model") or name)
        family = body.get("family")
        self.models[name] = {
            "name": name,
            "provider": body["provider"],
            "model": model_id,
            "base_url": body.get("base_url"),
            "auth_method": body.get("auth_method", "none"),
            "credential_type": body.get("credential_type", "none"),
            "has_credential": name in self.secrets,
            "credential_key_id": self.key_id if name in self.secrets else None,
            "region": body.get("region", ""),
            "tier": body.get("tier", "standard"),
            "family": family,
            "effective_family": family or derived_family(model_id),
            "input_price": prices(body).get("input_price"),
            "output_price": prices(body).get("output_price"),
            "created_at": NOW,
            "updated_at": NOW,
        }
        return httpx.Response(201, json=self.models[name])

    def _show(self, records: dict[str, Record], kind: str, name: str) -> httpx.Response:
        if name not in records:
            return error(404, "not_found_error", f"no {kind} named {name!r}")
        return httpx.Response(200, json=records[name])

    def _patch(self, kind: str, name: str, body: Record) -> httpx.Response:
        records = {
            "tenants": self.tenants,
            "agents": self.agents,
            "workspaces": self.workspaces,
            "models": self.models,
        }
        record = records[kind].get(name)
        if record is None:
            return error(404, "not_found_error", f"no {kind[:-1]} named {name!r}")
        allowed, nullable = PATCHABLE[kind]
        unknown = sorted(set(body) - allowed)
        if unknown:
            return error(400, "invalid_request_error", f"{unknown[0]}: unknown field")
        problem = attribute_problem(body, allowed, nullable)
        if problem:
            return error(400, "invalid_request_error", problem)
        record.update(prices(body))
        if kind == "models":
            record["effective_family"] = record["family"] or derived_family(str(record["model"]))
        return httpx.Response(200, json=record)

    def _with_model(self, name: str, then: Callable[[Record], httpx.Response]) -> httpx.Response:
        if name not in self.models:
            return error(404, "not_found_error", f"no model named {name!r}")
        return then(self.models[name])

    def _delete_model(self, name: str) -> httpx.Response:
        def delete(_: Record) -> httpx.Response:
            member_of = [pool for pool in self.pools.values() if name in member_names(pool)]
            if member_of:
                listed = ", ".join(repr(pool["name"]) for pool in member_of)
                return error(409, "conflict_error", f"model {name!r} is a member of pool {listed}")
            del self.models[name]
            self.secrets.pop(name, None)
            return httpx.Response(204)

        return self._with_model(name, delete)

    def _create_pool(self, body: Record) -> httpx.Response:
        name = body.get("name")
        if not isinstance(name, str) or not name:
            return error(400, "invalid_request_error", "name: field required")
        problem = unknown_field(body, {"name", "match_when", "strategy", "order"})
        problem = problem or pool_problem(body)
        if problem:
            return error(400, "invalid_request_error", problem)
        if name in self.pools:
            return error(409, "conflict_error", f"pool {name!r} already exists")
        if name in self.models:
            return error(409, "conflict_error", f"a model is named {name!r}")
        self.pools[name] = {
            "name": name,
            "match_when": normalized_match(body.get("match_when", {})),
            "strategy": body.get("strategy", "priority"),
            "order": body.get("order", 0),
            "members": [],
            "created_at": NOW,
        }
        return httpx.Response(201, json=self.pools[name])

    def _with_pool(self, name: str, then: Callable[[Record], httpx.Response]) -> httpx.Response:
        if name not in self.pools:
            return error(404, "not_found_error", f"pool {name!r} not found")
        return then(self.pools[name])

    def _patch_pool(self, name: str, body: Record) -> httpx.Response:
        problem = unknown_field(body, {"match_when", "strategy", "order"}) or pool_problem(body)
        if problem:
            return error(400, "invalid_request_error", problem)

        def patch(pool: Record) -> httpx.Response:
            pool.update(body)
            pool["match_when"] = normalized_match(pool["match_when"])
            return httpx.Response(200, json=pool)

        return self._with_pool(name, patch)

    def _delete_pool(self, name: str) -> httpx.Response:
        del self.pools[name]
        return httpx.Response(204)

    def _put_member(self, pool: Record, model: str, body: Record) -> httpx.Response:
        problem = unknown_field(body, {"priority", "weight"}) or member_problem(body)
        if problem:
            return error(400, "invalid_request_error", problem)
        if model not in self.models:
            return error(404, "not_found_error", f"model {model!r} not found")
        member = {
            "model": model,
            "priority": body.get("priority", 0),
            "weight": body.get("weight", 1),
        }
        others = [m for m in members_of(pool) if m["model"] != model]
        pool["members"] = sorted([*others, member], key=member_order)
        return httpx.Response(200, json=pool)

    def _remove_member(self, pool: Record, model: str) -> httpx.Response:
        if model not in member_names(pool):
            message = f"model {model!r} is not a member of pool {pool['name']!r}"
            return error(404, "not_found_error", message)
        pool["members"] = [m for m in members_of(pool) if m["model"] != model]
        return httpx.Response(200, json=pool)

    def _set_credential(self, name: str, body: Record) -> httpx.Response:
        credential = body.get("credential")
        if not isinstance(credential, str) or not credential:
            return error(400, "invalid_request_error", "credential is required")

        def store(model: Record) -> httpx.Response:
            self.secrets[name] = credential
            model.update(has_credential=True, credential_key_id=self.key_id)
            return httpx.Response(200, json=model)

        return self._with_model(name, store)

    def _rotate(self) -> httpx.Response:
        self.key_id = f"k{int(self.key_id[1:]) + 1}"
        for name in self.secrets:
            self.models[name]["credential_key_id"] = self.key_id
        return httpx.Response(
            200, json={"active_key_id": self.key_id, "reencrypted": len(self.secrets)}
        )

    def _audit(self, request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params.get("limit", "20"))
        if not 1 <= limit <= 1000:  # the contract's cap
            return error(400, "invalid_request_error", "limit must be 1..1000")
        return listing(self.audit[::-1][:limit])


def model_problem(body: Record) -> str | None:
    """The contract's rules on `POST /admin/v1/models`, as a message, or None."""
    provider, credential, base_url = (
        body.get("provider"),
        body.get("credential"),
        body.get("base_url"),
    )
    if not isinstance(body.get("name"), str):
        return "name is required"
    if provider not in PROVIDERS:
        return f"provider: unknown kind {provider!r}"
    if provider in KEYED_PROVIDERS and body.get("auth_method") == "api-key" and not credential:
        return f"credential: required for {provider} with api-key"
    if provider == "openai-compatible" and not base_url:
        return "base_url: required for openai-compatible"
    if provider == "mock" and credential is not None:
        return "credential: mock takes no credential"
    if base_url is not None and not str(base_url).startswith(("http://", "https://")):
        return "base_url: must be an http or https URL"
    return None


def attribute_problem(body: Record, fields: frozenset[str], nullable: frozenset[str]) -> str | None:
    """The contract's rules on attributes, as a message naming the field, or None."""
    for field in sorted(fields & set(body)):
        value = body[field]
        if value is None:
            if field not in nullable:
                return f"{field}: must not be null"
        elif field.endswith("_price"):
            if not is_price(value):
                return f"{field}: {value!r} is not a price"
        elif field == "region" and field in nullable:  # a region pin
            if not isinstance(value, str) or not REGION_PIN.fullmatch(value):
                return "region: use 1 to 32 lowercase letters, digits and -"
        elif field == "labels":
            if not isinstance(value, list) or len(value) > 32:
                return "labels: expected a list of at most 32 strings"
        elif "classification" in field:
            if value not in CLASSIFICATIONS:
                return f"{field}: must be one of {', '.join(CLASSIFICATIONS)}"
        elif not isinstance(value, str):
            return f"{field}: expected a string"
    return None


def is_price(value: object) -> bool:
    """Decimal text (or an integer), finite and not negative; never a float."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return False
    return price.is_finite() and price >= 0


def prices(body: Record) -> Record:
    """`body` with integer prices as the decimal strings the API answers with."""
    return {
        key: str(value) if key.endswith("_price") and isinstance(value, int) else value
        for key, value in body.items()
    }


def unknown_field(body: Record, allowed: set[str]) -> str | None:
    unknown = sorted(set(body) - allowed)
    return f"{unknown[0]}: unknown field" if unknown else None


def pool_problem(body: Record) -> str | None:
    """The contract's rules on a pool's match_when, strategy and order."""
    match = body.get("match_when", {})
    if not isinstance(match, dict):
        return "match_when: expected a JSON object of attribute -> list of values"
    for key, values in match.items():
        if key not in MATCH_ATTRIBUTES:
            return f"match_when: unknown attribute {json.dumps(key)}"
        if not isinstance(values, str | list) or not values:
            return f"match_when: {key} needs a non-empty list of values"
    if "strategy" in body and body["strategy"] not in STRATEGIES:
        return f"strategy: must be one of {', '.join(STRATEGIES)}"
    order = body.get("order", 0)
    if isinstance(order, bool) or not isinstance(order, int):
        return "order: expected an integer"
    return None


def member_problem(body: Record) -> str | None:
    priority, weight = body.get("priority", 0), body.get("weight", 1)
    if isinstance(priority, bool) or not isinstance(priority, int):
        return "priority: expected an integer"
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 1000:
        return "weight: expected an integer from 1 to 1000"
    return None


def normalized_match(match: object) -> dict[str, list[str]]:
    """Every value a list, as the contract stores and shows it."""
    assert isinstance(match, dict)
    return {key: [values] if isinstance(values, str) else values for key, values in match.items()}


def members_of(pool: Record) -> list[Record]:
    members = pool["members"]
    assert isinstance(members, list)
    return members


def member_names(pool: Record) -> list[str]:
    return [str(member["model"]) for member in members_of(pool)]


def member_order(member: Record) -> tuple[int, str]:
    priority = member["priority"]
    assert isinstance(priority, int)
    return priority, str(member["model"])


def derived_family(model_id: str) -> str:
    """The model id without a trailing release date (docs/admin-api.md)."""
    return re.sub(r"[-@](\d{8}|\d{4}-\d{2}-\d{2})$", "", model_id)


def listing(records: Iterable[Record]) -> httpx.Response:
    return httpx.Response(200, json={"data": list(records)})


def error(status: int, error_type: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"type": error_type, "message": message}})
