"""Cedar authorization of every model call: scopes, classification, entities, context,
policy files, the compiled set and the evaluator. Pure: no I/O but the shipped schema.

The server builds a `PolicyWorld` and the applied `PolicySource`s from its config
snapshot, builds a `PolicyEngine` off the hot path, and calls `authorize` per call.
"""

from dome.policy.classification import (
    LEVELS,
    Classification,
    parse_label,
    resolve_classification,
)
from dome.policy.compile import (
    CompiledPolicy,
    CompiledPolicySet,
    compile_policy_set,
    parse_policy_file,
    validate_policy_set,
)
from dome.policy.context import CallContext
from dome.policy.decision import ACTIONS, Decision, Outcome, explain
from dome.policy.engine import PolicyEngine
from dome.policy.entities import build_entities, tenant_entities
from dome.policy.generated import block_policy, grant_policy
from dome.policy.replay import Flip, RecordedDecision, flips
from dome.policy.schema import schema_text
from dome.policy.scope import PLATFORM, Scope, ScopeDirectory, parse_scope
from dome.policy.sources import PolicyFileError, PolicyProblem, PolicySource
from dome.policy.world import AgentInfo, ModelInfo, PolicyWorld, TenantInfo, WorkspaceInfo

__all__ = [
    "ACTIONS",
    "LEVELS",
    "PLATFORM",
    "AgentInfo",
    "CallContext",
    "Classification",
    "CompiledPolicy",
    "CompiledPolicySet",
    "Decision",
    "Flip",
    "ModelInfo",
    "Outcome",
    "PolicyEngine",
    "PolicyFileError",
    "PolicyProblem",
    "PolicySource",
    "PolicyWorld",
    "RecordedDecision",
    "Scope",
    "ScopeDirectory",
    "TenantInfo",
    "WorkspaceInfo",
    "block_policy",
    "build_entities",
    "compile_policy_set",
    "explain",
    "flips",
    "grant_policy",
    "parse_label",
    "parse_policy_file",
    "parse_scope",
    "resolve_classification",
    "schema_text",
    "tenant_entities",
    "validate_policy_set",
]
