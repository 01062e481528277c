"""The admin API: authentication, validation that changes nothing, conflicts, views, and
the policy attributes of workspaces, agents and models (create, show, PATCH)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import anyio
import httpx
import pytest

from dome.store import AuditRow, open_store
from tests.integration.conftest import Wired


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
        await store.insert_audit([row])
    finally:
        await store.close()
