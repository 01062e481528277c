"""The admin API: authentication, validation that changes nothing, conflicts, views, the
policy attributes of workspaces, agents and models (create, show, PATCH), and the routing
config: pools and members, region pins, model prices."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import anyio
import httpx
import pytest

from dome.store import AuditRow, open_store
from tests.integration.conftest import Wired
from tests.integration.store.samples import sealed


def admin(
    wired: Wired,
    method: str,
    path: str,
    token: str | None = None,
    *,
    json: object = None,
    content: bytes | None = None,
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token or wired.broker.admin.token}"}
    url = wired.broker.url + "/admin/v1" + path
    return httpx.request(method, url, headers=headers, timeout=10, json=json, content=content)


def test_admin_needs_the_admin_token(wired: Wired) -> None:
    assert httpx.get(wired.broker.url + "/admin/v1/models").status_code == 401
    response = admin(wired, "GET", "/models", token="dome_adm_wrong")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    # An agent token is not an admin token.
    assert admin(wired, "GET", "/models", token=wired.token).status_code == 401


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/tenants", b"{", 400, "not valid JSON"),
        ("/tenants", b'{"name": ""}', 400, "name: field required"),
        ("/tenants", b'{"name": "has space"}', 400, "name: use letters"),
        ("/workspaces", b'{"name": "w-x", "tenant": "no-such-tenant"}', 404, "no-such-tenant"),
        ("/agents", b'{"name": "a-x", "workspace": "no-such-ws"}', 404, "no-such-ws"),
        ("/models", b'{"name": "m-x", "provider": "bedrock"}', 400, "unknown kind"),
        ("/models", b'{"name": "m-x", "provider": "openai"}', 400, "credential: required"),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(
    wired: Wired, path: str, body: bytes, status: int, fragment: str
) -> None:
    before = {
        p: admin(wired, "GET", p).json() for p in ("/tenants", "/workspaces", "/agents", "/models")
    }
    response = admin(wired, "POST", path, content=body)
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"]
    after = {p: admin(wired, "GET", p).json() for p in before}
    assert after == before


def test_duplicates_are_409(wired: Wired) -> None:
    assert admin(wired, "POST", "/tenants", json={"name": "dup"}).status_code == 201
    response = admin(wired, "POST", "/tenants", json={"name": "dup"})
    assert response.status_code == 409
    assert "dup" in response.json()["error"]["message"]


def test_model_views_never_hold_the_secret(wired: Wired) -> None:
    shown = admin(wired, "GET", "/models/anthropic-prod").json()
    assert shown["has_credential"] is True
    assert len(shown["credential_key_id"]) == 8
    assert "credential" not in shown
    assert wired.anthropic.api_key not in admin(wired, "GET", "/models").text
    assert admin(wired, "GET", "/models/nope").status_code == 404
    assert admin(wired, "DELETE", "/models/nope").status_code == 404


def test_set_credential_takes_effect_at_once(wired: Wired) -> None:
    admin(
        wired,
        "POST",
        "/models",
        json={
            "name": "rotating",
            "provider": "anthropic",
            "model": "claude-rotating",
            "base_url": wired.anthropic.url,
            "credential": "sk-ant-wrong",
        },
    ).raise_for_status()
    body = {"model": "rotating", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    headers = {"x-api-key": wired.token}
    first = httpx.post(wired.broker.url + "/v1/messages", json=body, headers=headers)
    assert first.status_code == 502  # the provider refused the broker's key, not the agent's
    assert "set-credential" in first.json()["error"]["message"]
    admin(
        wired, "PUT", "/models/rotating/credential", json={"credential": wired.anthropic.api_key}
    ).raise_for_status()
    assert (
        httpx.post(wired.broker.url + "/v1/messages", json=body, headers=headers).status_code == 200
    )
    assert admin(wired, "DELETE", "/models/rotating").status_code == 204
    assert (
        httpx.post(wired.broker.url + "/v1/messages", json=body, headers=headers).status_code == 404
    )


def test_audit_limit_is_validated(wired: Wired) -> None:
    assert admin(wired, "GET", "/audit?limit=0").status_code == 400
    assert admin(wired, "GET", "/audit?limit=abc").status_code == 400


def test_revoking_the_last_agent_of_a_workspace_still_names_its_tenant(wired: Wired) -> None:
    wired.broker.admin.agent("lonely", workspace="solo-ws", tenant="solo-t")
    revoked = admin(wired, "POST", "/agents/lonely/revoke").json()
    assert (revoked["status"], revoked["workspace"], revoked["tenant"]) == (
        "revoked",
        "solo-ws",
        "solo-t",
    )
    assert revoked["revoked_at"]
    listed = {a["name"]: a for a in admin(wired, "GET", "/agents").json()["data"]}
    assert listed["lonely"]["tenant"] == "solo-t"


def test_rotation_never_loses_a_concurrent_credential_update(wired: Wired) -> None:
    body = {"model": "racing", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    for attempt in range(5):
        admin(
            wired,
            "POST",
            "/models",
            json={
                "name": "racing",
                "provider": "anthropic",
                "model": "claude-racing",
                "base_url": wired.anthropic.url,
                "credential": "sk-ant-wrong",
            },
        ).raise_for_status()
        with ThreadPoolExecutor(2) as pool:
            rotated = pool.submit(admin, wired, "POST", "/master-key/rotate")
            updated = pool.submit(
                admin,
                wired,
                "PUT",
                "/models/racing/credential",
                json={"credential": wired.anthropic.api_key},
            )
            assert rotated.result().status_code == 200
            assert updated.result().status_code == 200
        answer = httpx.post(
            wired.broker.url + "/v1/messages", json=body, headers={"x-api-key": wired.token}
        )
        assert answer.status_code == 200, (attempt, answer.text)
        assert admin(wired, "DELETE", "/models/racing").status_code == 204


# policy attributes of workspaces, agents and models


def test_attributes_are_set_at_creation_and_shown(wired: Wired) -> None:
    assert admin(wired, "POST", "/tenants", json={"name": "attr-t"}).status_code == 201
    workspace = admin(
        wired,
        "POST",
        "/workspaces",
        json={
            "name": "attr-ws",
            "tenant": "attr-t",
            "residency": "eu",
            "max_classification": "confidential",
            "classification_default": "internal",
        },
    )
    assert workspace.status_code == 201
    assert workspace.json() == {
        "name": "attr-ws",
        "tenant": "attr-t",
        "residency": "eu",
        "max_classification": "confidential",
        "classification_default": "internal",
        "classification_floor": None,
        "region": None,
        "created_at": workspace.json()["created_at"],
    }
    agent = admin(
        wired,
        "POST",
        "/agents",
        json={
            "name": "attr-agent",
            "workspace": "attr-ws",
            "labels": ["team:ml", "batch", "team:ml"],
            "classification_floor": "public",
        },
    ).json()
    assert (agent["labels"], agent["classification_default"], agent["classification_floor"]) == (
        ["team:ml", "batch"],
        None,
        "public",
    )
    assert agent["tenant"] == "attr-t"
    shown = admin(wired, "GET", "/agents/attr-agent").json()
    assert shown == {key: value for key, value in agent.items() if key != "token"}
    assert admin(wired, "GET", "/workspaces/attr-ws").json() == workspace.json()
    model = admin(
        wired,
        "POST",
        "/models",
        json={
            "name": "attr-model",
            "provider": "mock",
            "model": "claude-opus-4@20250514",
            "region": "eu-west-1",
            "tier": "frontier",
        },
    ).json()
    assert (model["region"], model["tier"], model["family"], model["effective_family"]) == (
        "eu-west-1",
        "frontier",
        None,
        "claude-opus-4",
    )


def test_defaults_show_on_every_record(wired: Wired) -> None:
    listed = admin(wired, "GET", "/agents").json()["data"]
    agent = next(a for a in listed if a["name"] == "agent-1")
    assert (agent["labels"], agent["classification_default"], agent["classification_floor"]) == (
        [],
        None,
        None,
    )
    workspace = admin(wired, "GET", "/workspaces/ws").json()
    assert (workspace["residency"], workspace["max_classification"]) == ("", "restricted")
    model = admin(wired, "GET", "/models/gpt-prod").json()
    assert (model["region"], model["tier"], model["family"], model["effective_family"]) == (
        "",
        "standard",
        None,
        "gpt-4o-mini",
    )


def test_patch_changes_only_the_given_fields(wired: Wired) -> None:
    wired.broker.admin.agent("patched", workspace="patch-ws", tenant="patch-t")

    first = admin(
        wired,
        "PATCH",
        "/agents/patched",
        json={"labels": ["a"], "classification_default": "internal"},
    )
    second = admin(wired, "PATCH", "/agents/patched", json={"classification_floor": "public"})
    third = admin(wired, "PATCH", "/agents/patched", json={"classification_default": None})
    unchanged = admin(wired, "PATCH", "/agents/patched", json={})

    assert [r.status_code for r in (first, second, third, unchanged)] == [200] * 4
    assert (first.json()["labels"], first.json()["classification_default"]) == (["a"], "internal")
    assert second.json()["classification_default"] == "internal"
    assert (third.json()["labels"], third.json()["classification_default"]) == (["a"], None)
    assert third.json()["classification_floor"] == "public"
    assert unchanged.json() == third.json()
    assert third.json()["tenant"] == "patch-t"

    workspace = admin(wired, "PATCH", "/workspaces/patch-ws", json={"residency": "eu"}).json()
    ceiling = admin(
        wired, "PATCH", "/workspaces/patch-ws", json={"max_classification": "internal"}
    ).json()
    assert (workspace["residency"], workspace["max_classification"]) == ("eu", "restricted")
    assert (ceiling["residency"], ceiling["max_classification"]) == ("eu", "internal")

    admin(
        wired,
        "POST",
        "/models",
        json={"name": "patch-model", "provider": "mock", "model": "m-2024-08-06"},
    )
    named = admin(wired, "PATCH", "/models/patch-model", json={"family": "mine", "tier": "cheap"})
    derived = admin(wired, "PATCH", "/models/patch-model", json={"family": None})
    assert (named.json()["family"], named.json()["effective_family"]) == ("mine", "mine")
    assert (derived.json()["family"], derived.json()["effective_family"]) == (None, "m")
    assert derived.json()["tier"] == "cheap"
    assert admin(wired, "GET", "/models/patch-model").json() == derived.json()


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/agents/agent-1", {"labels": "a"}, 400, "labels: expected a list"),
        ("/agents/agent-1", {"labels": ["has space"]}, 400, "labels: 'has space'"),
        ("/agents/agent-1", {"labels": [f"l{i}" for i in range(33)]}, 400, "labels: at most 32"),
        ("/agents/agent-1", {"classification_default": "secret"}, 400, "classification_default:"),
        ("/agents/agent-1", {"classification_floor": "Public"}, 400, "classification_floor:"),
        ("/agents/agent-1", {"lables": ["a"]}, 400, "lables: unknown field"),
        ("/agents/agent-1", {"workspace": "other"}, 400, "workspace: unknown field"),
        ("/agents/ghost", {"labels": ["a"]}, 404, "agent 'ghost' not found"),
        ("/agents/ghost", {}, 404, "agent 'ghost' not found"),
        ("/workspaces/ws", {"residency": "EU"}, 400, "residency:"),
        ("/workspaces/ws", {"max_classification": None}, 400, "max_classification:"),
        ("/workspaces/ws", {"classification_floor": 3}, 400, "classification_floor:"),
        ("/workspaces/ghost", {"residency": "eu"}, 404, "workspace 'ghost' not found"),
        ("/models/demo", {"region": "eu west"}, 400, "region:"),
        ("/models/demo", {"tier": ""}, 400, "tier:"),
        ("/models/demo", {"family": "has space"}, 400, "family:"),
        ("/models/demo", {"provider": "openai"}, 400, "provider: unknown field"),
        ("/models/ghost", {"tier": "cheap"}, 404, "model 'ghost' not found"),
    ],
)
def test_bad_patches_are_clear_errors_and_change_nothing(
    wired: Wired, path: str, body: object, status: int, fragment: str
) -> None:
    before = {p: admin(wired, "GET", p).json() for p in ("/workspaces", "/agents", "/models")}
    response = admin(wired, "PATCH", path, json=body)
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"]
    after = {p: admin(wired, "GET", p).json() for p in before}
    assert after == before


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/workspaces", {"name": "w-bad", "tenant": "t", "residency": "e u"}, "residency:"),
        (
            "/workspaces",
            {"name": "w-bad", "tenant": "t", "max_classification": "top"},
            "max_classification:",
        ),
        ("/workspaces", {"name": "w-bad", "tenant": "t", "colour": "red"}, "colour: unknown field"),
        ("/agents", {"name": "a-bad", "workspace": "ws", "labels": [1]}, "labels:"),
        (
            "/agents",
            {"name": "a-bad", "workspace": "ws", "classification_default": "x"},
            "classification_default:",
        ),
        ("/models", {"name": "m-bad", "provider": "mock", "region": "EU"}, "region:"),
        ("/models", {"name": "m-bad", "provider": "mock", "tier": 1}, "tier:"),
    ],
)
def test_bad_attributes_at_creation_are_400_and_create_nothing(
    wired: Wired, path: str, body: object, fragment: str
) -> None:
    before = admin(wired, "GET", path).json()
    response = admin(wired, "POST", path, json=body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]
    assert admin(wired, "GET", path).json() == before


def test_show_unknown_agent_or_workspace_is_404(wired: Wired) -> None:
    assert admin(wired, "GET", "/agents/ghost").status_code == 404
    assert admin(wired, "GET", "/workspaces/ghost").status_code == 404


def test_audit_view_shows_the_decision_fields(wired: Wired) -> None:
    started = datetime.now(UTC) + timedelta(days=1)  # newest in the tail
    context = {
        "principal": {"type": "Agent", "id": "agent-1"},
        "action": {"type": "Action", "id": "invoke"},
        "resource": {"type": "Model", "id": "demo"},
        "context": {"classification": "internal", "classification_level": 1},
    }
    row = AuditRow(
        call_id="call_decided",
        started_at=started,
        agent="agent-1",
        workspace="ws",
        tenant="t",
        endpoint="messages",
        requested_model="demo",
        served_model=None,
        model_entry=None,
        provider=None,
        format_in="anthropic",
        format_out=None,
        stream=False,
        status=403,
        error_type="permission_error",
        latency_ms=1.5,
        ttft_ms=None,
        input_tokens=None,
        output_tokens=None,
        usage=None,
        decision="deny",
        policy_ids=["t.eu-only"],
        policy_version=7,
        policy_context=context,
    )
    anyio.run(_insert_audit, wired.broker.settings.database_url, row)

    (record,) = admin(wired, "GET", "/audit?limit=1").json()["data"]

    assert record["call_id"] == "call_decided"
    assert (record["decision"], record["policy_ids"], record["policy_version"]) == (
        "deny",
        ["t.eu-only"],
        7,
    )
    assert record["policy_context"] == context


async def _insert_audit(url: str, row: AuditRow) -> None:
    store = await open_store(url)  # a second client of the broker's database
    try:
        await store.insert_audit(sealed([row]))
    finally:
        await store.close()


def test_audit_view_shows_the_attempts_and_the_pool(wired: Wired) -> None:
    attempts = [
        {"model": "a", "outcome": "error", "status": 503, "latency_ms": 4.0, "why": "upstream"},
        {"model": "b", "outcome": "ok", "status": 200, "latency_ms": 9.5, "why": None},
    ]
    row = AuditRow(
        call_id="call_pooled",
        started_at=datetime.now(UTC) + timedelta(days=2),  # newest in the tail
        agent="agent-1",
        workspace="ws",
        tenant="t",
        endpoint="messages",
        requested_model="cheap",
        served_model="b",
        model_entry="b",
        provider="mock",
        format_in="anthropic",
        format_out="anthropic",
        stream=False,
        status=200,
        error_type=None,
        latency_ms=14.0,
        ttft_ms=None,
        input_tokens=1,
        output_tokens=2,
        usage=None,
        attempts=attempts,
        pool="cheap",
    )
    anyio.run(_insert_audit, wired.broker.settings.database_url, row)

    (record,) = admin(wired, "GET", "/audit?limit=1").json()["data"]

    assert (record["call_id"], record["pool"], record["attempts"]) == (
        "call_pooled",
        "cheap",
        attempts,
    )


# routing config: pools, region pins, prices

# Specific enough that no request of the other tests in this module matches it.
POOL_MATCH = {"request.model": ["claude-haiku-4-5", "gpt-5-mini"]}


def mock_model(wired: Wired, name: str, **fields: object) -> httpx.Response:
    body = {"name": name, "provider": "mock", "model": "mock-1", **fields}
    return admin(wired, "POST", "/models", json=body)


def test_pool_lifecycle(wired: Wired) -> None:
    for name in ("pool-m1", "pool-m2"):
        assert mock_model(wired, name).status_code == 201
    created = admin(
        wired, "POST", "/pools", json={"name": "cheap-reasoning", "match_when": POOL_MATCH}
    )
    assert created.status_code == 201
    assert created.json() == {
        "name": "cheap-reasoning",
        "match_when": POOL_MATCH,
        "strategy": "priority",
        "order": 0,
        "members": [],
        "created_at": created.json()["created_at"],
    }

    path = "/pools/cheap-reasoning"
    admin(wired, "PUT", f"{path}/members/pool-m2", json={"priority": 1}).raise_for_status()
    both = admin(wired, "PUT", f"{path}/members/pool-m1", json={"priority": 1, "weight": 5})
    first = admin(wired, "PUT", f"{path}/members/pool-m2", json={"priority": -1})
    assert both.json()["members"] == [
        {"model": "pool-m1", "priority": 1, "weight": 5},
        {"model": "pool-m2", "priority": 1, "weight": 1},
    ]
    assert first.json()["members"] == [
        {"model": "pool-m2", "priority": -1, "weight": 1},
        {"model": "pool-m1", "priority": 1, "weight": 5},
    ]
    assert admin(wired, "GET", path).json() == first.json()
    listed = admin(wired, "GET", "/pools").json()["data"]
    assert [pool for pool in listed if pool["name"] == "cheap-reasoning"] == [first.json()]

    patched = admin(wired, "PATCH", path, json={"strategy": "weighted", "order": 3}).json()
    assert (patched["strategy"], patched["order"], patched["match_when"]) == (
        "weighted",
        3,
        POOL_MATCH,
    )
    assert admin(wired, "PATCH", path, json={}).json() == patched

    refused = admin(wired, "DELETE", "/models/pool-m2")
    assert refused.status_code == 409
    assert "cheap-reasoning" in refused.json()["error"]["message"]
    left = admin(wired, "DELETE", f"{path}/members/pool-m1")
    assert [m["model"] for m in left.json()["members"]] == ["pool-m2"]
    assert admin(wired, "DELETE", "/models/pool-m1").status_code == 204

    assert admin(wired, "DELETE", path).status_code == 204
    assert admin(wired, "GET", path).status_code == 404
    assert admin(wired, "DELETE", "/models/pool-m2").status_code == 204


def test_match_when_is_stored_normalized(wired: Wired) -> None:
    body = {
        "name": "normalized",
        "match_when": {"request.stream": [True], "request.model": "gpt-5-mini"},
        "strategy": "cascade",
        "order": -2,
    }
    created = admin(wired, "POST", "/pools", json=body).json()
    assert created["match_when"] == {"request.model": ["gpt-5-mini"], "request.stream": ["true"]}
    assert (created["strategy"], created["order"]) == ("cascade", -2)
    assert admin(wired, "DELETE", "/pools/normalized").status_code == 204


def test_pool_and_model_names_share_one_namespace(wired: Wired) -> None:
    clash = admin(wired, "POST", "/pools", json={"name": "demo", "match_when": POOL_MATCH})
    assert clash.status_code == 409
    assert "demo" in clash.json()["error"]["message"]
    admin(wired, "POST", "/pools", json={"name": "ns-pool", "match_when": POOL_MATCH})
    taken = mock_model(wired, "ns-pool")
    assert taken.status_code == 409
    assert "ns-pool" in taken.json()["error"]["message"]
    assert admin(wired, "POST", "/pools", json={"name": "ns-pool"}).status_code == 409
    assert admin(wired, "DELETE", "/pools/ns-pool").status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    [
        ("POST", "/pools", {"name": ""}, 400, "name: field required"),
        ("POST", "/pools", {"name": "p", "match_when": "x"}, 400, "match_when: expected a JSON"),
        (
            "POST",
            "/pools",
            {"name": "p", "match_when": {"request.modle": ["x"]}},
            400,
            'match_when: unknown attribute "request.modle"',
        ),
        ("POST", "/pools", {"name": "p", "match_when": {"agent.name": []}}, 400, "match_when:"),
        ("POST", "/pools", {"name": "p", "strategy": "fastest"}, 400, "strategy: must be one of"),
        ("POST", "/pools", {"name": "p", "order": "1"}, 400, "order: expected an integer"),
        ("POST", "/pools", {"name": "p", "order": True}, 400, "order: expected an integer"),
        ("POST", "/pools", {"name": "p", "colour": 1}, 400, "colour: unknown field"),
        ("PATCH", "/pools/bad-pool", {"strategy": None}, 400, "strategy:"),
        ("PATCH", "/pools/bad-pool", {"name": "x"}, 400, "name: unknown field"),
        ("PATCH", "/pools/ghost", {"order": 1}, 404, "pool 'ghost' not found"),
        ("GET", "/pools/ghost", None, 404, "pool 'ghost' not found"),
        ("DELETE", "/pools/ghost", None, 404, "pool 'ghost' not found"),
        ("PUT", "/pools/bad-pool/members/demo", {"weight": 0}, 400, "weight: expected an"),
        ("PUT", "/pools/bad-pool/members/demo", {"weight": 1001}, 400, "from 1 to 1000"),
        ("PUT", "/pools/bad-pool/members/demo", {"priority": 1.5}, 400, "priority: expected"),
        ("PUT", "/pools/bad-pool/members/demo", {"share": 1}, 400, "share: unknown field"),
        ("PUT", "/pools/ghost/members/demo", {}, 404, "pool 'ghost' not found"),
        ("PUT", "/pools/bad-pool/members/ghost", {}, 404, "model 'ghost' not found"),
        ("DELETE", "/pools/bad-pool/members/demo", None, 404, "is not a member"),
    ],
)
def test_bad_pool_requests_are_clear_errors_and_change_nothing(
    wired: Wired, method: str, path: str, body: object, status: int, fragment: str
) -> None:
    if admin(wired, "GET", "/pools/bad-pool").status_code == 404:
        admin(wired, "POST", "/pools", json={"name": "bad-pool", "match_when": POOL_MATCH})
    before = {p: admin(wired, "GET", p).json() for p in ("/pools", "/models")}
    response = admin(wired, method, path, json=body)
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"]
    assert {p: admin(wired, "GET", p).json() for p in before} == before


def test_region_pins_of_tenants_and_workspaces(wired: Wired) -> None:
    created = admin(wired, "POST", "/tenants", json={"name": "pin-t", "region": "eu"}).json()
    assert created["region"] == "eu"
    moved = admin(wired, "PATCH", "/tenants/pin-t", json={"region": "us-east"}).json()
    cleared = admin(wired, "PATCH", "/tenants/pin-t", json={"region": None}).json()
    assert (moved["name"], moved["region"], cleared["region"]) == ("pin-t", "us-east", None)
    listed = admin(wired, "GET", "/tenants").json()["data"]
    assert next(t for t in listed if t["name"] == "pin-t") == cleared

    admin(wired, "POST", "/workspaces", json={"name": "pin-ws", "tenant": "pin-t"})
    pinned = admin(wired, "PATCH", "/workspaces/pin-ws", json={"region": "eu"}).json()
    assert (pinned["region"], pinned["residency"]) == ("eu", "")
    assert admin(wired, "GET", "/workspaces/pin-ws").json() == pinned
    unpinned = admin(wired, "PATCH", "/workspaces/pin-ws", json={"region": None}).json()
    assert unpinned["region"] is None


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/tenants/pin-bad", {"region": "EU"}, 400, "region: use 1 to 32 lowercase"),
        ("/tenants/pin-bad", {"region": "x" * 33}, 400, "region:"),
        ("/tenants/pin-bad", {"region": ""}, 400, "region:"),
        ("/tenants/pin-bad", {"residency": "eu"}, 400, "residency: unknown field"),
        ("/tenants/ghost", {"region": "eu"}, 404, "tenant 'ghost' not found"),
        ("/workspaces/ws", {"region": "e u"}, 400, "region:"),
        ("/workspaces/ws", {"region": 3}, 400, "region:"),
    ],
)
def test_bad_region_pins_are_400_and_change_nothing(
    wired: Wired, path: str, body: object, status: int, fragment: str
) -> None:
    admin(wired, "POST", "/tenants", json={"name": "pin-bad"})
    before = {p: admin(wired, "GET", p).json() for p in ("/tenants", "/workspaces")}
    response = admin(wired, "PATCH", path, json=body)
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"]
    assert {p: admin(wired, "GET", p).json() for p in before} == before


def test_model_prices_are_decimal_strings(wired: Wired) -> None:
    added = mock_model(wired, "priced", input_price="3.00", output_price="15").json()
    assert (added["input_price"], added["output_price"]) == ("3.00", "15")
    changed = admin(wired, "PATCH", "/models/priced", json={"output_price": 2}).json()
    unpriced = admin(wired, "PATCH", "/models/priced", json={"input_price": None}).json()
    assert (changed["input_price"], changed["output_price"]) == ("3.00", "2")
    assert (unpriced["input_price"], unpriced["output_price"]) == (None, "2")
    assert admin(wired, "GET", "/models/priced").json() == unpriced
    plain = admin(wired, "GET", "/models/demo").json()
    assert (plain["input_price"], plain["output_price"]) == (None, None)


@pytest.mark.parametrize(
    "price",
    [3.5, "-1", "NaN", "Infinity", "cheap", "", "2000000", True, "1" * 40],
)
@pytest.mark.parametrize("field", ["input_price", "output_price"])
def test_bad_prices_are_400_naming_the_field(wired: Wired, field: str, price: object) -> None:
    before = admin(wired, "GET", "/models").json()
    patched = admin(wired, "PATCH", "/models/demo", json={field: price})
    created = mock_model(wired, "bad-priced", **{field: price})
    for response in (patched, created):
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith(f"{field}: ")
    assert admin(wired, "GET", "/models").json() == before
