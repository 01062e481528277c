"""The scope rule: a policy applied at a scope may only name principals inside it.

At tenant T the principal must be `==` or `in` T, one of its workspaces or one of its
agents; at workspace W, W or one of its agents; at agent A, only A. Platform policies
may say anything. Templates (`?principal` slots) are platform-only.
"""

from __future__ import annotations

from cedarpy import pst

from dome.policy.scope import ENTITY_TYPES, Scope, ScopeDirectory

_KIND_OF_TYPE = {entity_type: kind for kind, entity_type in ENTITY_TYPES.items()}


def is_template(policy: pst.Template) -> bool:
    return any(
        isinstance(constraint, pst.ScopeEq | pst.ScopeIn | pst.ScopeIsIn)
        and isinstance(constraint.entity, pst.Slot)
        for constraint in (policy.principal, policy.resource)
    )


def scope_problem(policy: pst.Template, scope: Scope, directory: ScopeDirectory) -> str | None:
    """Why `policy` may not be applied at `scope`, or None when it may."""
    if scope.kind == "platform":
        return None
    if is_template(policy):
        return f"templates (?principal, ?resource) are platform-only, not for scope {scope}"
    constraint = policy.principal
    if isinstance(constraint, pst.ScopeAny | pst.ScopeIs):
        return (
            f"the principal is unconstrained; at scope {scope} write "
            f'`principal == Agent::"..."` or `principal in {_entity_of(scope)}`'
        )
    entity = constraint.entity
    if isinstance(entity, pst.Slot):  # pragma: no cover - ruled out by is_template
        return "templates are platform-only"
    kind = _KIND_OF_TYPE.get(entity.type.basename)
    if kind is None or entity.type.namespace:
        return f"principal {entity} is not an Agent, Workspace or Tenant"
    chain = directory.chain(Scope(kind, entity.id))
    if chain is None:
        return f"principal {entity} does not exist, so it cannot be inside scope {scope}"
    if scope not in chain:
        return f"principal {entity} is outside scope {scope}"
    return None


def _entity_of(scope: Scope) -> str:
    return f'{ENTITY_TYPES[scope.kind]}::"{scope.name}"'
