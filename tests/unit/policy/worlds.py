"""A small but realistic policy world and helpers to build engines from Cedar text."""

from __future__ import annotations

from datetime import UTC, datetime

from dome.policy import (
    AgentInfo,
    CallContext,
    Classification,
    ModelInfo,
    PolicyEngine,
    PolicySource,
    PolicyWorld,
    TenantInfo,
    WorkspaceInfo,
    parse_policy_file,
    parse_scope,
    schema_text,
)

THURSDAY_10 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

WORLD = PolicyWorld(
    tenants=(TenantInfo("acme"), TenantInfo("globex")),
    workspaces=(
        WorkspaceInfo("research", "acme", residency="eu", max_classification="confidential"),
        WorkspaceInfo("sandbox", "acme", max_classification="internal"),
        WorkspaceInfo("support", "acme", max_classification="restricted"),
        WorkspaceInfo("gx-lab", "globex"),
    ),
    agents=(
        AgentInfo("planner", "research"),
        AgentInfo("analyst", "research", ("batch",)),
        AgentInfo("tinker", "sandbox"),
        AgentInfo("support-bot", "support"),
        AgentInfo("gx-bot", "gx-lab"),
    ),
    models=(
        ModelInfo(
            "haiku",
            "claude-haiku-4-5",
            "claude-haiku-4-5",
            "anthropic",
            "eu-west-1",
            "cheap",
            ("cheap-reasoning",),
        ),
        ModelInfo(
            "mini",
            "gpt-4o-mini",
            "gpt-4o-mini",
            "openai",
            "us-east-1",
            "cheap",
            ("cheap-reasoning",),
        ),
        ModelInfo("gpt4o", "gpt-4o", "gpt-4o", "openai", "us-east-1", "frontier", ("frontier",)),
        ModelInfo(
            "sonnet-eu",
            "claude-sonnet-4-6",
            "claude-sonnet-4-6",
            "anthropic",
            "eu-central-1",
            "frontier",
            ("frontier", "eu-only"),
        ),
    ),
)
MODELS = tuple(m.name for m in WORLD.models)


def sources(text: str, scope: str = "platform", file: str = "rules.cedar") -> list[PolicySource]:
    """`text` parsed and checked as `dome rules apply FILE --scope SCOPE` would."""
    return list(
        parse_policy_file(
            text,
            file=file,
            scope=parse_scope(scope),
            directory=WORLD.directory(),
            schema_text=schema_text(),
        )
    )


def engine(*files: tuple[str, str], version: int = 1) -> PolicyEngine:
    """An engine from (scope, Cedar text) pairs, each checked like an applied file."""
    applied = [s for scope, text in files for s in sources(text, scope, file=f"{scope}.cedar")]
    return PolicyEngine.build(WORLD, applied, version=version)


def context(
    *,
    classification: str = "internal",
    tokens: int = 1000,
    region: str = "eu-west-1",
    now: datetime = THURSDAY_10,
    stream: bool = False,
    wire_format: str = "openai",
    requested_model: str = "haiku",
) -> CallContext:
    return CallContext(
        requested_model=requested_model,
        classification=Classification.of(classification),
        region=region,
        estimated_tokens=tokens,
        stream=stream,
        format=wire_format,
        now=now,
    )


GRANT_CHEAP = """
@id("acme.cheap-reasoning")
permit (principal in Tenant::"acme", action in Action::"access", resource in Pool::"cheap-reasoning");
"""

GRANT_FRONTIER = """
@id("acme.frontier")
permit (principal in Tenant::"acme", action in Action::"access", resource in Pool::"frontier");
"""
