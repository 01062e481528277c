"""The admin API: authentication, validation that changes nothing, conflicts, views."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

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
