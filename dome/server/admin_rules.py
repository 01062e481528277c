"""The policy part of the admin API: apply, list, show, remove, history, rollback, test,
and the grant/block shorthands (docs/policy.md).

Every change publishes a whole new policy version; each broker process swaps it in on
reload. A change that does not compile, validate and build changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dome.errors import InvalidRequestError, NotFoundError
from dome.policy import (
    PLATFORM,
    CallContext,
    Flip,
    PolicyEngine,
    PolicySource,
    RecordedDecision,
    Scope,
    block_policy,
    flips,
    grant_policy,
    parse_policy_file,
    parse_scope,
    schema_text,
)
from dome.policy.decision import ACTIONS
from dome.server.admin_http import (
    Handler,
    json_response,
    optional_count,
    optional_text,
    read_body,
    required_text,
)
from dome.server.authorization import classification_for
from dome.server.runtime import policy_sources, policy_world
from dome.store.records import AuditRow, PolicyRecord

if TYPE_CHECKING:
    from dome.server.runtime import Runtime

REPLAYED_DECISIONS = 500
"""How many recent audited decisions a change is replayed against."""

# One policy change at a time in this process: each reads the version in force and
# publishes the next one.
_changes = asyncio.Lock()


async def show_schema(_: Request, __: Runtime) -> Response:
    return json_response({"schema": schema_text()})


async def apply_rules(request: Request, runtime: Runtime) -> Response:
    body = await read_body(request)
    file, text = required_text(body, "file"), required_text(body, "text")
    scope = parse_scope(body.get("scope") or "platform")
    dry_run = body.get("dry_run") is True
    async with _changes:
        world = policy_world(runtime.snapshot)
        sources = parse_policy_file(
            text, file=file, scope=scope, directory=world.directory(), schema_text=schema_text()
        )
        current = await _current(runtime)
        # Re-applying a file at a scope replaces what that file applied there before.
        replaced = [r for r in current if r.file == file and r.scope == str(scope)]
        kept = [r for r in current if r not in replaced]
        records = [*kept, *(_record(source, file) for source in sources)]
        result = await _change(runtime, records, f"apply {file} at {scope}", dry_run=dry_run)
    result["applied"] = [source.id for source in sources]
    result["replaced"] = [record.id for record in replaced]
    return json_response(result, 200 if dry_run else 201)


async def list_rules(_: Request, runtime: Runtime) -> Response:
    version = await runtime.store.current_policies()
    records = version.policies if version else ()
    return json_response(
        {
            "version": version.version if version else 0,
            "data": [_summary(record) for record in records],
        }
    )


async def show_rule(request: Request, runtime: Runtime) -> Response:
    record = _find(await _current(runtime), request.path_params["policy_id"])
    return json_response({**_summary(record), "text": record.text})


async def remove_rule(request: Request, runtime: Runtime) -> Response:
    policy_id = request.path_params["policy_id"]
    async with _changes:
        current = await _current(runtime)
        record = _find(current, policy_id)
        records = [r for r in current if r is not record]
        result = await _change(runtime, records, f"remove {policy_id}", dry_run=False)
    return json_response(result)


async def rules_history(_: Request, runtime: Runtime) -> Response:
    versions = await runtime.store.policy_versions()
    return json_response(
        {
            "data": [
                {
                    "version": v.version,
                    "created_at": v.created_at.isoformat(),
                    "note": v.note,
                    "count": v.count,
                    "digest": v.digest,
                }
                for v in versions
            ]
        }
    )


async def rollback_rules(request: Request, runtime: Runtime) -> Response:
    body = await read_body(request)
    target = body.get("version")
    if isinstance(target, bool) or not isinstance(target, int) or target < 0:
        raise InvalidRequestError("version: expected a version number", param="version")
    async with _changes:
        records: list[PolicyRecord] = []
        if target > 0:
            version = await runtime.store.policy_version(target)
            if version is None:
                raise NotFoundError(f"policy version {target} does not exist")
            records = list(version.policies)
        result = await _change(runtime, records, f"rollback to {target}", dry_run=False)
    return json_response(result)


async def test_rule(request: Request, runtime: Runtime) -> Response:
    """A decision without a call: `dome rules test --agent A --model M ...`."""
    body = await read_body(request)
    snapshot = runtime.snapshot
    agent_name, model = required_text(body, "agent"), required_text(body, "model")
    agent = runtime.agent_named(agent_name)
    entry = snapshot.models.get(model) or runtime.routes.by_provider_model.get(model)
    if entry is None:
        raise NotFoundError(f"model {model!r} is not configured")
    action = optional_text(body, "action") or "invoke"
    if action not in ACTIONS:
        raise InvalidRequestError(f"action: one of {', '.join(ACTIONS)}", param="action")
    classification = classification_for(runtime, agent, optional_text(body, "classification"))
    tokens = optional_count(body, "tokens")
    context = CallContext(
        requested_model=model,
        classification=classification,
        region=optional_text(body, "region") or runtime.settings.region,
        estimated_tokens=tokens,
        stream=body.get("stream") is True,
        format=optional_text(body, "format") or "openai",
        now=datetime.now(UTC),
    )
    engine = runtime.routes.policy
    (decision,) = engine.authorize(agent.name, action, [entry.name], context)
    return json_response(
        {
            "allowed": decision.allowed,
            "outcome": decision.outcome,
            "policies": list(decision.policy_ids),
            "reasons": list(decision.reasons),
            "errors": list(decision.errors),
            "explanation": engine.explain(decision, agent.name, action, entry.name),
            "policy_version": engine.version,
            "request": {
                "principal": agent.name,
                "action": action,
                "resource": entry.name,
                "context": context.to_cedar(),
            },
        }
    )


async def grant(request: Request, runtime: Runtime) -> Response:
    body = await read_body(request)
    scope, pool, model = _principal_scope(body), optional_text(body, "pool"), _model(body)
    return await _publish_generated(runtime, grant_policy(scope, pool=pool, model=model))


async def block(request: Request, runtime: Runtime) -> Response:
    body = await read_body(request)
    scope, pool, model = _principal_scope(body), optional_text(body, "pool"), _model(body)
    reason = optional_text(body, "reason")
    return await _publish_generated(
        runtime, block_policy(scope, pool=pool, model=model, reason=reason)
    )


async def _publish_generated(runtime: Runtime, source: PolicySource) -> Response:
    """A generated policy replaces one with its id (granting twice changes nothing)."""
    async with _changes:
        world = policy_world(runtime.snapshot)
        # The same checks as a file: scope exists, the principal lies within it.
        parse_policy_file(
            source.text,
            file="<generated>",
            scope=source.scope,
            directory=world.directory(),
            schema_text=schema_text(),
        )
        current = [r for r in await _current(runtime) if r.id != source.id]
        records = [*current, _record(source, "<generated>")]
        result = await _change(runtime, records, f"generate {source.id}", dry_run=False)
    result["applied"] = [source.id]
    return json_response(result, 201)


async def _change(
    runtime: Runtime, records: Sequence[PolicyRecord], note: str, *, dry_run: bool
) -> dict[str, Any]:
    """Build the new set as it would run (any error changes nothing), replay recent
    decisions against it, then publish unless this is a dry run."""
    snapshot = runtime.snapshot
    sources = policy_sources(records)
    engine = await asyncio.to_thread(PolicyEngine.build, policy_world(snapshot), sources, version=0)
    recent = await runtime.store.recent_decisions(REPLAYED_DECISIONS)
    changed = flips(engine, [r for r in map(_recorded, recent) if r is not None])
    result: dict[str, Any] = {
        "dry_run": dry_run,
        "policies": len(records),
        "flips": [_flip_view(flip, engine) for flip in changed],
    }
    if not dry_run:
        result["version"] = await runtime.store.publish_policies(records, note)
        await runtime.reload()
    return result


async def _current(runtime: Runtime) -> list[PolicyRecord]:
    version = await runtime.store.current_policies()
    return list(version.policies) if version else []


def _find(records: Sequence[PolicyRecord], policy_id: str) -> PolicyRecord:
    for record in records:
        if record.id == policy_id:
            return record
    raise NotFoundError(f"policy {policy_id!r} is not in force")


def _record(source: PolicySource, file: str) -> PolicyRecord:
    return PolicyRecord(id=source.id, scope=str(source.scope), text=source.text, file=file)


def _summary(record: PolicyRecord) -> dict[str, object]:
    return {"id": record.id, "scope": record.scope, "file": record.file}


def _recorded(row: AuditRow) -> RecordedDecision | None:
    request = row.policy_context
    if not isinstance(request, dict) or row.decision is None:
        return None
    context = request.get("context")
    principal, action, resource = (request.get(k) for k in ("principal", "action", "resource"))
    if not (
        isinstance(context, dict) and all(isinstance(v, str) for v in (principal, action, resource))
    ):
        return None
    return RecordedDecision(
        agent=str(principal),
        action=str(action),
        resource=str(resource),
        context=context,
        allowed=row.decision == "allow",
        call_id=row.call_id,
    )


def _flip_view(flip: Flip, engine: PolicyEngine) -> dict[str, object]:
    recorded, now = flip.recorded, flip.now
    return {
        "call_id": recorded.call_id,
        "agent": recorded.agent,
        "action": recorded.action,
        "model": recorded.resource,
        "was": "allow" if recorded.allowed else "deny",
        "now": "allow" if now.allowed else "deny",
        "explanation": engine.explain(now, recorded.agent, recorded.action, recorded.resource),
    }


def _principal_scope(body: dict[str, Any]) -> Scope:
    given = [(kind, optional_text(body, kind)) for kind in ("agent", "workspace", "tenant")]
    named = [(kind, name) for kind, name in given if name is not None]
    if len(named) > 1:
        raise InvalidRequestError("name at most one of agent, workspace and tenant")
    if not named:
        return PLATFORM
    kind, name = named[0]
    return parse_scope(f"{kind}:{name}")


def _model(body: dict[str, Any]) -> str | None:
    model = optional_text(body, "model")
    pool = optional_text(body, "pool")
    if (model is None) == (pool is None):
        raise InvalidRequestError("name exactly one of model and pool")
    return model


def rules_routes(
    prefix: str, bind: Callable[[Handler], Callable[[Request], Awaitable[Response]]]
) -> list[Route]:
    rules = f"{prefix}/rules"
    return [
        Route(f"{rules}/schema", bind(show_schema), methods=["GET"]),
        Route(f"{rules}/apply", bind(apply_rules), methods=["POST"]),
        Route(f"{rules}/history", bind(rules_history), methods=["GET"]),
        Route(f"{rules}/rollback", bind(rollback_rules), methods=["POST"]),
        Route(f"{rules}/test", bind(test_rule), methods=["POST"]),
        Route(f"{rules}/grant", bind(grant), methods=["POST"]),
        Route(f"{rules}/block", bind(block), methods=["POST"]),
        Route(rules, bind(list_rules), methods=["GET"]),
        Route(f"{rules}/{{policy_id:path}}", bind(show_rule), methods=["GET"]),
        Route(f"{rules}/{{policy_id:path}}", bind(remove_rule), methods=["DELETE"]),
    ]
