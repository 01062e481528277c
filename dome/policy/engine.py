"""The evaluator: cedarpy handles built once per config, one Cedar batch per call.

Everything costly (schema, policy sets, entity graphs) is parsed in `build`, off the hot
path (cedar.md section 4: re-parsing entities per call costs ~30 ms, handles ~50 us).
Fail closed: a decision is an allow only if Cedar says Allow and reports no error,
because Cedar skips a policy whose evaluation fails, and a skipped forbid would allow.

Cedar evaluates every policy in a set (about 1 us each, no index), so each tenant's set
is narrowed per workspace: platform + tenant policies + that workspace's and its agents'
policies. The scope rule (`dome.policy.lint`) makes this exact: a policy applied at
another workspace or its agents cannot name this workspace's agents. Workspaces with
no policies of their own share one set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cedarpy
import orjson

# The binding's own entry point. cedarpy's public `is_authorized_batch` wraps it and
# adds ~10 us per decision (stdlib json, result objects): a tenth of the 100 us budget
# (bench/policy_decisions.py). cedarpy is pinned exactly in pyproject.toml, and
# test_policy_engine.py checks both entry points agree on every decision.
from cedarpy import _internal

from dome.errors import ConfigError
from dome.policy.cache import DecisionCache, context_fields
from dome.policy.compile import (
    CompiledPolicy,
    CompiledPolicySet,
    compile_policy_set,
    est_document,
    validate_policy_set,
)
from dome.policy.context import CallContext
from dome.policy.decision import ACTIONS, Decision, Outcome, denied, explain
from dome.policy.entities import tenant_entities
from dome.policy.schema import schema_text
from dome.policy.scope import ScopeDirectory
from dome.policy.sources import PolicySource
from dome.policy.world import PolicyWorld


@dataclass(frozen=True, slots=True)
class _Handles:
    """What one agent's decisions are evaluated against."""

    policies: cedarpy.PolicySet  # platform + tenant + the agent's workspace and agents
    entities: _internal.Entities  # the tenant's scopes and agents + the model catalog


@dataclass(frozen=True, slots=True)
class _Partition:
    platform: list[CompiledPolicy]
    by_tenant: dict[str, list[CompiledPolicy]]  # applied at the tenant itself
    by_workspace: dict[str, list[CompiledPolicy]]  # at the workspace or one of its agents
    orphaned: tuple[str, ...]  # applied at a scope that no longer exists


class PolicyEngine:
    """Decides calls for one config snapshot and one policy version. Immutable: a
    change builds a new engine (in the background) and the caller swaps it in whole."""

    __slots__ = (
        "_agents",
        "_cache",
        "_models",
        "_reasons",
        "_schema",
        "compiled",
        "orphaned",
        "version",
    )

    def __init__(
        self,
        *,
        version: int,
        compiled: CompiledPolicySet,
        orphaned: tuple[str, ...],
        schema: cedarpy.Schema,
        agents: Mapping[str, _Handles],
        models: frozenset[str],
    ) -> None:
        self.version = version
        self.compiled = compiled
        # Ids of policies applied at a scope that no longer exists; they are left out.
        # Their principals are gone with the scope, so no decision changes.
        self.orphaned = orphaned
        self._schema = schema
        self._agents = agents
        self._models = models
        self._reasons = compiled.reasons
        self._cache = DecisionCache(context_fields(p.est for p in compiled.policies))

    @property
    def digest(self) -> str:
        """The policy set's content digest, for the audit record."""
        return self.compiled.digest

    @classmethod
    def build(
        cls,
        world: PolicyWorld,
        sources: Iterable[PolicySource],
        *,
        version: int,
        schema: str | None = None,
    ) -> PolicyEngine:
        """Compile, validate (strict) and load everything; takes milliseconds.

        Raises:
            ConfigError: a policy that does not compile or validate, or entities
                that do not match the schema.
        """
        compiled = compile_policy_set(sources)
        try:
            schema_handle = cedarpy.Schema.from_str(schema or schema_text(), release_gil=True)
        except ValueError as exc:
            raise ConfigError(f"Cedar schema: {exc}") from exc
        validate_policy_set(compiled, schema_handle)
        partition = _partition(compiled, world.directory())
        agents = _handles_by_agent(world, partition, schema_handle)
        return cls(
            version=version,
            compiled=compiled,
            orphaned=partition.orphaned,
            schema=schema_handle,
            agents=agents,
            models=frozenset(m.name for m in world.models),
        )

    def authorize(
        self, agent: str, action: str, resources: Sequence[str], context: CallContext
    ) -> tuple[Decision, ...]:
        """One decision per resource (Model entry name), in order, from one Cedar batch.

        Never raises: unknown agents, actions or models are denials with an error.
        """
        return self.decide(agent, action, resources, context.to_cedar())

    def allowed_resources(
        self, agent: str, action: str, resources: Sequence[str], context: CallContext
    ) -> tuple[str, ...]:
        """The resources `agent` may use, in the given order (for listing models)."""
        return tuple(
            d.resource for d in self.authorize(agent, action, resources, context) if d.allowed
        )

    def explain(self, decision: Decision, agent: str, action: str, resource: str) -> str:
        """The sentence the agent reads about `decision` (see `dome.policy.explain`)."""
        return explain(decision, agent, action, resource)

    def decide(
        self,
        agent: str,
        action: str,
        resources: Sequence[str],
        context: Mapping[str, object],
    ) -> tuple[Decision, ...]:
        """`authorize` with the Cedar context as stored in the audit record (for replay)."""
        handles = self._agents.get(agent)
        if handles is None:
            return tuple(denied(r, f"unknown agent {agent!r}") for r in resources)
        if action not in ACTIONS:
            return tuple(denied(r, f"unknown action {action!r}") for r in resources)
        key = self._cache.key(agent, action, resources, context)
        if key is not None:
            cached = self._cache.get(key)
            if cached is not None:
                return cached
        decided = self._decide(handles, agent, action, resources, context)
        if key is not None:
            self._cache.put(key, decided)
        return decided

    def _decide(
        self,
        handles: _Handles,
        agent: str,
        action: str,
        resources: Sequence[str],
        context: Mapping[str, object],
    ) -> tuple[Decision, ...]:
        known = [r for r in resources if r in self._models]
        decisions = self._evaluate(handles, agent, action, known, context)
        if len(known) == len(resources):
            return tuple(decisions)
        results = iter(decisions)
        return tuple(
            next(results) if r in self._models else denied(r, f"unknown model {r!r}")
            for r in resources
        )

    def _evaluate(
        self,
        handles: _Handles,
        agent: str,
        action: str,
        resources: list[str],
        context: Mapping[str, object],
    ) -> list[Decision]:
        if not resources:
            return []
        try:
            context_json = orjson.dumps(context).decode()  # cedarpy takes it as text
            principal = {"type": "Agent", "id": agent}
            action_uid = {"type": "Action", "id": action}
            requests: list[dict[str, object]] = [
                {
                    "principal": principal,
                    "action": action_uid,
                    "resource": {"type": "Model", "id": resource},
                    "context": context_json,
                }
                for resource in resources
            ]
            answers = _internal.is_authorized_batch(
                requests, handles.policies, handles.entities, self._schema
            )
            return [
                self._decision(r, orjson.loads(answer))
                for r, answer in zip(resources, answers, strict=True)
            ]
        except (TypeError, ValueError, KeyError, RuntimeError) as exc:
            # Never raise on the hot path: a call that cannot be evaluated is denied.
            return [denied(r, f"cannot evaluate: {exc}") for r in resources]

    def _decision(self, resource: str, answer: Mapping[str, Any]) -> Decision:
        """Cedar's answer as a fail-closed decision.

        `answer` is the binding's JSON: {"decision": "Allow" | "Deny" | "NoDecision",
        "diagnostics": {"reason": [policy ids], "errors": [text]}}.
        """
        verdict = answer.get("decision")
        diagnostics = answer.get("diagnostics") or {}
        errors = tuple(diagnostics.get("errors") or ())
        policy_ids = tuple(sorted(diagnostics.get("reason") or ()))
        outcome: Outcome
        if verdict == "Allow" and not errors:
            outcome = "allow"
        elif verdict == "Deny" and policy_ids:
            outcome = "forbid"
        elif verdict == "Deny" and not errors:
            outcome = "no_permit"
        else:
            outcome = "error"
            errors = errors or (f"Cedar returned {verdict} without a reason",)
        reasons = tuple(self._reasons[i] for i in policy_ids if i in self._reasons)
        return Decision(outcome == "allow", policy_ids, reasons, errors, resource, outcome)


def _handles_by_agent(
    world: PolicyWorld, partition: _Partition, schema: cedarpy.Schema
) -> dict[str, _Handles]:
    """Each agent's handles: its tenant's entities and its workspace's policy set."""
    policy_sets: dict[tuple[str, ...], cedarpy.PolicySet] = {}
    by_workspace: dict[str, _Handles] = {}
    for tenant in world.tenants:
        entities = _entities(world, tenant.name, schema)
        tenant_policies = [*partition.platform, *partition.by_tenant.get(tenant.name, ())]
        for workspace in world.workspaces:
            if workspace.tenant != tenant.name:
                continue
            policies = [*tenant_policies, *partition.by_workspace.get(workspace.name, ())]
            key = tuple(p.id for p in policies)
            if key not in policy_sets:
                policy_sets[key] = _policy_set(policies)
            by_workspace[workspace.name] = _Handles(policy_sets[key], entities)
    return {agent.name: by_workspace[agent.workspace] for agent in world.agents}


def _entities(world: PolicyWorld, tenant: str, schema: cedarpy.Schema) -> _internal.Entities:
    document = orjson.dumps(tenant_entities(world, tenant)).decode()
    try:
        return _internal.Entities.from_json_str(document, schema, release_gil=True)
    except ValueError as exc:
        raise ConfigError(f"tenant {tenant!r}: entities do not match the schema: {exc}") from exc


def _policy_set(policies: Iterable[CompiledPolicy]) -> cedarpy.PolicySet:
    try:
        return cedarpy.PolicySet.from_json_str(est_document(policies), release_gil=True)
    except ValueError as exc:  # pragma: no cover - every policy compiled on its own
        raise ConfigError(f"policy set: {exc}") from exc


def _partition(compiled: CompiledPolicySet, directory: ScopeDirectory) -> _Partition:
    platform: list[CompiledPolicy] = []
    by_tenant: dict[str, list[CompiledPolicy]] = {}
    by_workspace: dict[str, list[CompiledPolicy]] = {}
    orphaned: list[str] = []
    for policy in compiled.policies:
        chain = directory.chain(policy.scope)
        if chain is None:
            orphaned.append(policy.id)
        elif not chain:
            platform.append(policy)
        elif policy.scope.kind == "tenant":
            by_tenant.setdefault(policy.scope.name, []).append(policy)
        else:
            workspace = next(s.name for s in chain if s.kind == "workspace")
            by_workspace.setdefault(workspace, []).append(policy)
    return _Partition(platform, by_tenant, by_workspace, tuple(orphaned))
