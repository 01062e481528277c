"""Cost of one Cedar decision in the broker: `PolicyEngine.authorize` for one candidate.

A realistic world (1 tenant, 10 workspaces, N agents, 50 models in 5 pools) and a mix of
policies (pool grants, family forbids, classification ceiling, EU residency, token caps,
office hours, per-agent rules). Prints a markdown table; the target is p50 < 100 us
with 50 policies and 1,000 agents (issue: Cedar authorization on every call).

    .venv/bin/python bench/policy_decisions.py [--policies 50] [--agents 1000] [--calls 5000]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dome.policy import (
    LEVELS,
    AgentInfo,
    CallContext,
    Classification,
    ModelInfo,
    PolicyEngine,
    PolicySource,
    PolicyWorld,
    Scope,
    TenantInfo,
    WorkspaceInfo,
)

TENANT = "acme"
WORKSPACES = 10
MODELS = 50
POOLS = ("cheap-reasoning", "frontier", "eu-only", "embeddings", "long-context")
PROVIDERS = ("openai", "anthropic", "mistral", "openai-compatible", "mock")
FAMILIES = ("gpt-4o", "gpt-4o-mini", "claude-haiku-4-5", "claude-sonnet-4-6", "mistral-large")
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2")
WARMUP = 300


@dataclass(frozen=True, slots=True)
class BenchResult:
    policies: int
    agents: int
    calls: int
    build_ms: float
    p50_us: float
    p99_us: float
    mean_us: float
    allowed: float  # share of calls allowed

    def table(self) -> str:
        cells = [
            str(self.policies),
            str(self.agents),
            str(self.calls),
            f"{self.build_ms:.1f}",
            f"{self.p50_us:.1f}",
            f"{self.p99_us:.1f}",
            f"{self.mean_us:.1f}",
            f"{self.allowed:.0%}",
        ]
        return "\n".join(
            [
                "| policies | agents | calls | build ms | p50 µs | p99 µs | mean µs | allowed |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|",
                f"| {' | '.join(cells)} |",
            ]
        )


def build_world(agents: int) -> PolicyWorld:
    labels = tuple(LEVELS)
    workspaces = tuple(
        WorkspaceInfo(
            f"ws-{w:02d}",
            TENANT,
            residency="eu" if w % 3 == 0 else "",
            max_classification=labels[1 + w % 3],
        )
        for w in range(WORKSPACES)
    )
    return PolicyWorld(
        tenants=(TenantInfo(TENANT),),
        workspaces=workspaces,
        agents=tuple(
            AgentInfo(f"agent-{a:04d}", f"ws-{a % WORKSPACES:02d}", ("batch",) if a % 7 else ())
            for a in range(agents)
        ),
        models=tuple(
            ModelInfo(
                f"model-{m:02d}",
                f"{FAMILIES[m % len(FAMILIES)]}-{m}",
                FAMILIES[m % len(FAMILIES)],
                PROVIDERS[m % len(PROVIDERS)],
                REGIONS[m % len(REGIONS)],
                "frontier" if m % 4 == 0 else "standard",
                (POOLS[m % len(POOLS)], POOLS[(m + 2) % len(POOLS)]),
            )
            for m in range(MODELS)
        ),
    )


def _policy(policy_id: str, scope: Scope, body: str, reason: str | None = None) -> PolicySource:
    annotations = f'@id("{policy_id}")\n'
    if reason is not None:
        annotations += f'@reason("{reason}")\n'
    return PolicySource(policy_id, scope, annotations + body, file="bench.cedar")


def _fixed_policies() -> list[PolicySource]:
    platform = Scope("platform")
    tenant = Scope("tenant", TENANT)
    return [
        _policy(
            "platform.classification-ceiling",
            platform,
            'forbid (principal, action in [Action::"invoke", Action::"embed"], resource)\n'
            "when { context.classification_level > principal.workspace.max_classification_level };",
            "the data is classified above what this workspace may send",
        ),
        _policy(
            "platform.restricted-stays-in-eu",
            platform,
            "forbid (principal, action, resource)\n"
            'when { context.classification == "restricted" && '
            '(principal.workspace.residency == "eu" || context.region like "eu-*") && '
            '!(resource.region like "eu-*") };',
            "restricted data stays in EU regions",
        ),
        _policy(
            "acme.cheap-reasoning",
            tenant,
            f'permit (principal in Tenant::"{TENANT}", action in Action::"access", '
            'resource in Pool::"cheap-reasoning");',
        ),
        _policy(
            "acme.token-cap",
            tenant,
            f'forbid (principal in Tenant::"{TENANT}", action == Action::"invoke", resource)\n'
            "when { context.estimated_tokens > 200000 };",
            "calls are capped at 200k tokens",
        ),
    ]


def _rotating_policy(i: int, agents: int) -> PolicySource:
    """The i-th of the policies added after the fixed ones, cycling through kinds."""
    ws = f"ws-{i % WORKSPACES:02d}"
    workspace = Scope("workspace", ws)
    agent_name = f"agent-{(i * 37) % max(agents, 1):04d}"
    agent = Scope("agent", agent_name)
    pool = POOLS[i % len(POOLS)]
    family = FAMILIES[i % len(FAMILIES)]
    kind = i % 6
    if kind == 0:
        return _policy(
            f"{ws}.pool.{pool}.{i}",
            workspace,
            f'permit (principal in Workspace::"{ws}", action in Action::"access", '
            f'resource in Pool::"{pool}")\nwhen {{ context.estimated_tokens <= 100000 }};',
        )
    if kind == 1:
        return _policy(
            f"{ws}.no-{family}.{i}",
            workspace,
            f'forbid (principal in Workspace::"{ws}", action, resource)\n'
            f'when {{ resource.family like "{family}*" }};',
            f"{ws} may not use {family}",
        )
    if kind == 2:
        return _policy(
            f"{ws}.office-hours.{i}",
            workspace,
            f'forbid (principal in Workspace::"{ws}", action == Action::"invoke", resource)\n'
            "when { context.weekday > 5 || context.hour < 6 || context.hour >= 20 } "
            'unless { resource.tier == "standard" };',
            "frontier models only in office hours",
        )
    if kind == 3:
        return _policy(
            f"{ws}.batch-cap.{i}",
            workspace,
            f'forbid (principal in Workspace::"{ws}", action == Action::"invoke", resource)\n'
            'when { principal.labels.contains("batch") && context.estimated_tokens > 50000 '
            "&& context.stream };",
            "batch agents stream at most 50k tokens",
        )
    if kind == 4:
        return _policy(
            f"{agent_name}.pool.{pool}.{i}",
            agent,
            f'permit (principal == Agent::"{agent_name}", action in Action::"access", '
            f'resource in Pool::"{pool}");',
        )
    return _policy(
        f"{agent_name}.no-{family}.{i}",
        agent,
        f'forbid (principal == Agent::"{agent_name}", action, resource)\n'
        f'when {{ resource.family == "{family}" && context.format == "anthropic" }};',
        f"{agent_name} may not use {family} from the Anthropic format",
    )


def build_policies(count: int, agents: int) -> list[PolicySource]:
    fixed = _fixed_policies()
    return (fixed + [_rotating_policy(i, agents) for i in range(max(count - len(fixed), 0))])[
        :count
    ]


def _contexts(rng: random.Random, count: int) -> list[CallContext]:
    start = datetime(2026, 11, 23, tzinfo=UTC)
    labels = tuple(LEVELS)
    return [
        CallContext(
            requested_model="alias",
            classification=Classification.of(rng.choice(labels)),
            region=rng.choice(REGIONS),
            estimated_tokens=rng.randint(100, 250_000),
            stream=rng.random() < 0.5,
            format=rng.choice(("openai", "anthropic")),
            now=start + timedelta(minutes=rng.randrange(7 * 24 * 60)),
        )
        for _ in range(count)
    ]


def run(*, policies: int = 50, agents: int = 1000, calls: int = 5000, seed: int = 7) -> BenchResult:
    world = build_world(agents)
    sources = build_policies(policies, agents)
    started = time.perf_counter()
    engine = PolicyEngine.build(world, sources, version=1)
    build_ms = (time.perf_counter() - started) * 1000
    rng = random.Random(seed)  # noqa: S311 - a repeatable workload, not a secret
    agent_names = [a.name for a in world.agents]
    model_names = [m.name for m in world.models]
    total = calls + WARMUP
    requests = [
        (rng.choice(agent_names), [rng.choice(model_names)], context)
        for context in _contexts(rng, total)
    ]
    timings: list[int] = []
    allowed = 0
    authorize = engine.authorize
    gc.disable()
    try:
        for index, (agent, resources, context) in enumerate(requests):
            before = time.perf_counter_ns()
            (decision,) = authorize(agent, "invoke", resources, context)
            elapsed = time.perf_counter_ns() - before
            if index >= WARMUP:
                timings.append(elapsed)
                allowed += decision.allowed
    finally:
        gc.enable()
    timings.sort()
    return BenchResult(
        policies=len(sources),
        agents=agents,
        calls=calls,
        build_ms=build_ms,
        p50_us=statistics.median(timings) / 1000,
        p99_us=timings[min(len(timings) - 1, int(len(timings) * 0.99))] / 1000,
        mean_us=statistics.fmean(timings) / 1000,
        allowed=allowed / calls,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--policies", type=int, default=50)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.calls < 1 or args.agents < 1 or args.policies < 1:
        parser.error("--calls, --agents and --policies must be at least 1")
    result = run(policies=args.policies, agents=args.agents, calls=args.calls, seed=args.seed)
    print(result.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
