"""Cedar policy on real calls, through the official SDKs and the admin API (docs/policy.md).

One broker for the module with no permit-all rule: every test applies the rules it
needs (files replace their own earlier policies) and checks what the agent sees, what
went upstream and what the audit kept.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.broker import AdminClient, ThreadedBroker, threaded_broker

HELLO: Any = [{"role": "user", "content": "hello"}]


@dataclass
class World:
    broker: ThreadedBroker
    admin: AdminClient
    planner: str  # token of agent "planner" in workspace "research" (tenant acme)
    sandbox: str  # token of agent "tinker" in workspace "sandbox" (tenant acme)
    openai: FakeOpenAI
    anthropic: FakeAnthropic


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> Iterator[World]:
    with threaded_broker(tmp_path_factory.mktemp("policy")) as broker:
        admin = broker.admin
        planner = admin.agent("planner", workspace="research", tenant="acme")
        sandbox = admin.agent("tinker", workspace="sandbox", tenant="acme")
        admin.call("PATCH", "/workspaces/sandbox", {"max_classification": "internal"})
        admin.model(
            "claude-us",
            "anthropic",
            model="claude-sonnet-4-6",
            base_url=fake_anthropic.url,
            credential=fake_anthropic.api_key,
            region="us-east-1",
        )
        admin.model(
            "claude-eu",
            "anthropic",
            model="claude-haiku-4-5",
            base_url=fake_anthropic.url,
            credential=fake_anthropic.api_key,
            region="eu-west-1",
        )
        admin.model(
            "gpt-prod",
            "openai",
            model="gpt-4o-mini",
            base_url=fake_openai.url + "/v1",
            credential=fake_openai.api_key,
            region="us-east-1",
        )
        yield World(broker, admin, planner, sandbox, fake_openai, fake_anthropic)


GRANTS = """
@id("acme.grant-all")
permit(principal in Tenant::"acme", action in Action::"access", resource);
"""


def openai_client(world: World, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=world.broker.url + "/v1", api_key=token, max_retries=0)


def anthropic_client(world: World, token: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=world.broker.url, api_key=token, max_retries=0)


def chat(
    world: World, token: str, model: str, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    return httpx.post(
        world.broker.url + "/v1/chat/completions",
        json={"model": model, "messages": HELLO, **body},
        headers={"authorization": f"Bearer {token}", **(headers or {})},
    )


def apply(world: World, text: str, *, file: str, scope: str = "platform") -> Any:
    return world.admin.rules(text, file=file, scope=scope)


def clear(world: World) -> None:
    world.admin.call("POST", "/rules/rollback", {"version": 0})


def audit_for(world: World, call_id_header: str | None = None, **match: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for record in world.admin.call("GET", "/audit?limit=200")["data"]:
            if all(record.get(k) == v for k, v in match.items()):
                return dict(record)
        time.sleep(0.1)
    raise AssertionError(f"no audit record matching {match} {call_id_header or ''}")


def test_default_deny_says_so_in_both_formats_and_sends_nothing(world: World) -> None:
    clear(world)
    world.anthropic.reset()
    with (
        openai_client(world, world.planner) as client,
        pytest.raises(openai.PermissionDeniedError) as raised,
    ):
        client.chat.completions.create(model="claude-us", messages=HELLO)
    assert 'no policy permits agent "planner" to invoke model "claude-us"' in str(raised.value)
    with (
        anthropic_client(world, world.planner) as claude,
        pytest.raises(anthropic.PermissionDeniedError) as denied,
    ):
        claude.messages.create(model="claude-us", max_tokens=10, messages=HELLO)
    body: Any = denied.value.body
    assert body["error"]["type"] == "permission_error"
    assert world.anthropic.requests == []


def test_a_forbid_names_its_policy_and_reason_and_is_audited(world: World) -> None:
    clear(world)
    apply(world, GRANTS, file="grants.cedar", scope="tenant:acme")
    apply(
        world,
        """
        @id("planner.no-gpt-4o")
        @reason("the planner is not approved for GPT-4o models")
        forbid(principal == Agent::"planner", action, resource)
        when { resource.family like "gpt-4o*" };
        """,
        file="planner.cedar",
        scope="agent:planner",
    )
    world.openai.reset()
    response = chat(world, world.planner, "gpt-prod")
    assert response.status_code == 403
    assert response.headers["x-dome-policy"] == "planner.no-gpt-4o"
    message = response.json()["error"]["message"]
    assert message == (
        "denied by policy planner.no-gpt-4o: the planner is not approved for GPT-4o models"
    )
    assert world.openai.requests == []
    assert chat(world, world.planner, "claude-us").status_code == 200
    record = audit_for(world, agent="planner", requested_model="gpt-prod", status=403)
    assert record["decision"] == "deny"
    assert record["policy_ids"] == ["planner.no-gpt-4o"]
    assert record["policy_version"] >= 1
    request = record["policy_context"]
    assert (request["principal"], request["action"], request["resource"]) == (
        "planner",
        "invoke",
        "gpt-prod",
    )
    assert request["context"]["classification"] == "internal"
    allowed = audit_for(world, agent="planner", requested_model="claude-us", status=200)
    assert allowed["decision"] == "allow"
    assert allowed["policy_ids"] == ["acme.grant-all"]


def test_classification_ceiling_per_workspace_and_floors(world: World) -> None:
    clear(world)
    apply(world, GRANTS, file="grants.cedar", scope="tenant:acme")
    apply(
        world,
        """
        @id("platform.classification-ceiling")
        @reason("this workspace may not send data of this classification")
        forbid(principal, action in [Action::"invoke", Action::"embed"], resource)
        when { context.classification_level > principal.workspace.max_classification_level };
        """,
        file="ceiling.cedar",
    )
    confidential = {"x-dome-classification": "confidential"}
    assert chat(world, world.sandbox, "claude-us", confidential).status_code == 403
    assert chat(world, world.sandbox, "claude-us", {"x-dome-classification": "internal"}).is_success
    assert chat(world, world.planner, "claude-us", confidential).is_success  # no ceiling there
    bad = chat(world, world.sandbox, "claude-us", {"x-dome-classification": "secret"})
    assert bad.status_code == 400
    assert "X-Dome-Classification" in bad.json()["error"]["message"]
    # A floor raises what a call claims: the sandbox agent cannot go below confidential,
    # so even a "public" call is over its workspace's ceiling.
    world.admin.call("PATCH", "/agents/tinker", {"classification_floor": "confidential"})
    try:
        denied = chat(world, world.sandbox, "claude-us", {"x-dome-classification": "public"})
        assert denied.status_code == 403
        record = audit_for(world, agent="tinker", status=403)
        assert record["policy_context"]["context"]["classification"] == "confidential"
    finally:
        world.admin.call("PATCH", "/agents/tinker", {"classification_floor": None})


def test_restricted_data_stays_in_eu_regions(world: World) -> None:
    clear(world)
    apply(world, GRANTS, file="grants.cedar", scope="tenant:acme")
    apply(
        world,
        """
        @id("platform.restricted-stays-in-eu")
        @reason("restricted data stays in EU regions")
        forbid(principal, action in [Action::"invoke", Action::"embed"], resource)
        when { context.classification == "restricted" && !(resource.region like "eu-*") };
        """,
        file="eu.cedar",
    )
    restricted = {"x-dome-classification": "restricted"}
    us = chat(world, world.planner, "claude-us", restricted)
    assert us.status_code == 403
    assert "restricted data stays in EU regions" in us.json()["error"]["message"]
    assert chat(world, world.planner, "claude-eu", restricted).is_success
    assert chat(world, world.planner, "claude-us").is_success  # internal data may go anywhere


def test_token_cap_per_call(world: World) -> None:
    clear(world)
    apply(world, GRANTS, file="grants.cedar", scope="tenant:acme")
    apply(
        world,
        """
        @id("sandbox.token-cap")
        @reason("sandbox calls are capped at 8,000 tokens")
        forbid(principal in Workspace::"sandbox", action == Action::"invoke", resource)
        when { context.estimated_tokens > 8000 };
        """,
        file="cap.cedar",
        scope="workspace:sandbox",
    )
    assert chat(world, world.sandbox, "claude-us", max_tokens=1000).is_success
    assert chat(world, world.sandbox, "claude-us", max_tokens=9000).status_code == 403
    # Without max_tokens the call reserves the documented default (4,096).
    assert chat(world, world.sandbox, "claude-us").is_success
    assert chat(world, world.planner, "claude-us", max_tokens=9000).is_success


def test_a_policy_that_errors_at_evaluation_denies(world: World) -> None:
    clear(world)
    apply(world, GRANTS, file="grants.cedar", scope="tenant:acme")
    # Valid against the schema, but overflows at run time: Cedar would skip this
    # forbid and allow the call; the broker denies on any evaluation error.
    apply(
        world,
        """
        @id("platform.overflows")
        forbid(principal, action, resource)
        when { context.estimated_tokens * 9223372036854775807 > 0 };
        """,
        file="broken.cedar",
    )
    response = chat(world, world.planner, "claude-us")
    assert response.status_code == 403
    assert "policy evaluation failed" in response.json()["error"]["message"]


def test_rules_at_the_wrong_scope_or_broken_change_nothing(world: World) -> None:
    clear(world)
    apply(world, GRANTS, file="grants.cedar", scope="tenant:acme")
    before = world.admin.call("GET", "/rules")
    wrong_scope = httpx.post(
        world.broker.url + "/admin/v1/rules/apply",
        json={
            "file": "other.cedar",
            "scope": "workspace:sandbox",
            "text": '@id("x.research")\npermit(principal in Workspace::"research", action, resource);\n',
        },
        headers={"authorization": f"Bearer {world.admin.token}"},
    )
    assert wrong_scope.status_code == 400
    assert "other.cedar:1" in wrong_scope.json()["error"]["message"]  # where the policy starts
    assert "x.research" in wrong_scope.json()["error"]["message"]
    syntax = httpx.post(
        world.broker.url + "/admin/v1/rules/apply",
        json={"file": "typo.cedar", "text": '\n\n@id("t")\npermit(principal, action, resourc);\n'},
        headers={"authorization": f"Bearer {world.admin.token}"},
    )
    assert syntax.status_code == 400
    assert "typo.cedar" in syntax.json()["error"]["message"]
    assert world.admin.call("GET", "/rules") == before
    assert chat(world, world.planner, "claude-us").is_success


def test_dry_run_shows_flips_and_rollback_restores_decisions(world: World) -> None:
    clear(world)
    granted = apply(world, GRANTS, file="grants.cedar", scope="tenant:acme")
    assert chat(world, world.planner, "claude-eu").is_success
    block = """
    @id("acme.block-eu")
    @reason("claude-eu is closed")
    forbid(principal, action, resource == Model::"claude-eu");
    """
    dry = world.admin.call(
        "POST",
        "/rules/apply",
        {"file": "block.cedar", "text": block, "scope": "platform", "dry_run": True},
    )
    assert dry["dry_run"] is True
    assert "version" not in dry
    flipped = [f for f in dry["flips"] if f["model"] == "claude-eu"]
    assert flipped
    assert all(f["was"] == "allow" and f["now"] == "deny" for f in flipped)
    assert chat(world, world.planner, "claude-eu").is_success  # nothing was published
    apply(world, block, file="block.cedar")
    assert chat(world, world.planner, "claude-eu").status_code == 403
    world.admin.call("POST", "/rules/rollback", {"version": granted["version"]})
    assert chat(world, world.planner, "claude-eu").is_success
    history = world.admin.call("GET", "/rules/history")["data"]
    assert history[0]["note"] == f"rollback to {granted['version']}"


def test_grant_and_block_shorthands_and_model_listing(world: World) -> None:
    clear(world)
    world.admin.call("POST", "/rules/grant", {"workspace": "research", "model": "claude-eu"})
    world.admin.call("POST", "/rules/grant", {"workspace": "research", "model": "gpt-prod"})
    world.admin.call("POST", "/rules/block", {"agent": "planner", "model": "gpt-prod"})
    with openai_client(world, world.planner) as client:
        listed = [model.id for model in client.models.list()]
    assert "claude-eu" in listed
    assert "gpt-prod" not in listed  # blocked for this agent
    assert "claude-us" not in listed  # never granted
    ids = {rule["id"] for rule in world.admin.call("GET", "/rules")["data"]}
    assert ids == {
        "grant.workspace.research.model.claude-eu",
        "grant.workspace.research.model.gpt-prod",
        "block.agent.planner.model.gpt-prod",
    }
    assert chat(world, world.planner, "claude-eu").is_success
    assert chat(world, world.planner, "gpt-prod").status_code == 403


def test_actions_are_told_apart(world: World) -> None:
    clear(world)
    apply(
        world,
        """
        @id("acme.invoke-only")
        permit(principal in Tenant::"acme", action == Action::"invoke", resource);
        """,
        file="invoke.cedar",
        scope="tenant:acme",
    )
    assert chat(world, world.planner, "claude-us").is_success
    counted = httpx.post(
        world.broker.url + "/v1/messages/count_tokens",
        json={"model": "claude-us", "messages": HELLO},
        headers={"x-api-key": world.planner, "anthropic-version": "2023-06-01"},
    )
    assert counted.status_code == 403
    assert "count tokens with" in counted.json()["error"]["message"]


def test_rules_test_explains_without_calling(world: World) -> None:
    clear(world)
    apply(world, GRANTS, file="grants.cedar", scope="tenant:acme")
    world.anthropic.reset()
    result = world.admin.call(
        "POST",
        "/rules/test",
        {"agent": "planner", "model": "claude-us", "classification": "restricted", "tokens": 5},
    )
    assert result["allowed"] is True
    assert result["policies"] == ["acme.grant-all"]
    assert result["request"]["context"]["classification_level"] == 3
    assert world.anthropic.requests == []


def test_restricted_data_stays_in_eu_even_when_the_pools_eu_member_fails(world: World) -> None:
    clear(world)
    apply(world, GRANTS, file="grants.cedar", scope="tenant:acme")
    apply(
        world,
        """
        @id("platform.restricted-stays-in-eu")
        @reason("restricted data stays in EU regions")
        forbid(principal, action in [Action::"invoke", Action::"embed"], resource)
        when { context.classification == "restricted" && !(resource.region like "eu-*") };
        """,
        file="eu.cedar",
    )
    world.admin.model(
        "claude-eu-down",
        "anthropic",
        model="claude-error-500",
        base_url=world.anthropic.url,
        credential=world.anthropic.api_key,
        region="eu-central-1",
    )
    world.admin.call(
        "POST", "/pools", {"name": "eu-first", "match_when": {"request.model": ["assistant"]}}
    )
    world.admin.call("PUT", "/pools/eu-first/members/claude-eu-down", {"priority": 0})
    world.admin.call("PUT", "/pools/eu-first/members/claude-us", {"priority": 1})
    world.anthropic.reset()
    restricted = chat(world, world.planner, "assistant", {"x-dome-classification": "restricted"})
    assert restricted.status_code == 500  # the EU member's own failure; nothing else tried
    sent = [request.json()["model"] for request in world.anthropic.requests]
    assert sent == ["claude-error-500"]  # the US member was never asked
    world.anthropic.reset()
    internal = chat(world, world.planner, "assistant")
    assert internal.is_success  # failed over to the US member
    assert [r.json()["model"] for r in world.anthropic.requests] == [
        "claude-error-500",
        "claude-sonnet-4-6",
    ]
    record = audit_for(world, agent="planner", requested_model="assistant", status=200)
    assert [a["model"] for a in record["attempts"]] == ["claude-eu-down", "claude-us"]
    assert record["pool"] == "eu-first"


def test_a_grant_on_a_pool_covers_its_members(world: World) -> None:
    clear(world)
    # Reachable by its name only: no request matches its predicate.
    only_by_name = {"agent.name": ["nobody"]}
    world.admin.call("POST", "/pools", {"name": "research-pool", "match_when": only_by_name})
    world.admin.call("PUT", "/pools/research-pool/members/claude-eu", {})
    world.admin.call("POST", "/rules/grant", {"workspace": "research", "pool": "research-pool"})
    assert chat(world, world.planner, "research-pool").is_success
    assert chat(world, world.planner, "claude-eu").is_success  # a member, by its own name
    assert chat(world, world.planner, "gpt-prod").status_code == 403  # not in the pool
    world.admin.call("DELETE", "/pools/research-pool")


def test_listing_shows_only_what_the_agent_may_invoke(world: World) -> None:
    clear(world)
    apply(
        world,
        """
        @id("platform.list-models")
        permit(principal, action == Action::"list_models", resource);

        @id("research.claude-eu")
        permit(principal in Workspace::"research", action == Action::"invoke", resource == Model::"claude-eu");
        """,
        file="listing.cedar",
    )
    with openai_client(world, world.planner) as client:
        assert [model.id for model in client.models.list()] == ["claude-eu", "claude-haiku-4-5"]
    with openai_client(world, world.sandbox) as client:
        assert list(client.models.list()) == []  # may list, may invoke nothing
