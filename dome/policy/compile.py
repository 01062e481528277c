"""From Cedar text to a checked policy set: parse a file, lint it, validate it (strict),
then compile every applied policy into Cedar's JSON form keyed by its `@id`.

Keying by `@id` makes the engine's deciding-policy list read `acme.no-gpt-4o`, not the
positional `policy3` Cedar gives text (shared/research/cedar.md section 1).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

import cedarpy
import orjson
from cedarpy import pst

from dome.errors import ConfigError
from dome.policy.lint import scope_problem
from dome.policy.scope import Scope, ScopeDirectory
from dome.policy.sources import (
    POLICY_ID,
    PolicyChunk,
    PolicyFileError,
    PolicyProblem,
    PolicySource,
    line_of,
    split_policies,
)

Effect = Literal["permit", "forbid"]
_END_OF_INPUT: Final = "unexpected end of input"
_VALIDATOR_PREFIX: Final = re.compile(r"^for policy `[^`]*`, ")
_BACKTICKED: Final = re.compile(r"`([^`]+)`")
_ACTION: Final = re.compile(r'Action::"[^"]*"')


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    id: str
    scope: Scope
    effect: Effect
    is_template: bool
    reason: str | None  # the `@reason` annotation
    est: Mapping[str, object]  # the policy in Cedar's JSON format
    source: PolicySource


@dataclass(frozen=True, slots=True)
class CompiledPolicySet:
    policies: tuple[CompiledPolicy, ...]  # sorted by id
    digest: str  # sha256 hex of the canonical JSON of every policy with its scope

    @property
    def reasons(self) -> dict[str, str]:
        """`@reason` text by policy id, for the policies that have one."""
        return {p.id: p.reason for p in self.policies if p.reason is not None}

    @property
    def est_json(self) -> str:
        return est_document(self.policies)


def parse_policy_file(
    text: str,
    *,
    file: str,
    scope: Scope,
    directory: ScopeDirectory,
    schema_text: str | cedarpy.Schema,
) -> tuple[PolicySource, ...]:
    """Split a `.cedar` file into its policies and check each for being applied at `scope`.

    Checks, in order: syntax; a unique, well-formed `@id` on every policy; the scope
    rule (see `dome.policy.lint`); strict validation against the schema.

    Raises:
        PolicyFileError: every problem found, each naming the file, line and policy.
    """
    if not directory.exists(scope):
        raise PolicyFileError([PolicyProblem(file, None, None, f"scope {scope} does not exist")])
    parsed = _parse_chunks(text, file)
    sources = _identify(parsed, file, scope, directory)
    problems = _validation_problems("\n".join(s.text for s in sources), schema_text)
    if problems:
        chunks = {policy.annotations.get("id"): chunk for chunk, policy in parsed}
        located = [_locate(p, file, chunks.get(p.policy_id)) for p in problems]
        raise PolicyFileError(sorted(located, key=lambda p: (p.line or 0, p.message)))
    return tuple(sources)


def _locate(problem: PolicyProblem, file: str, chunk: PolicyChunk | None) -> PolicyProblem:
    """`problem` placed in `file`: on the policy's line that holds what the message
    names in backticks (an attribute, a type), else on its first line."""
    if chunk is None:
        return PolicyProblem(file, None, problem.policy_id, problem.message)
    culprit = _BACKTICKED.search(problem.message)
    line = chunk.line if culprit is None else line_of(chunk, culprit.group(1))
    return PolicyProblem(file, line, problem.policy_id, problem.message)


def _parse_chunks(text: str, file: str) -> list[tuple[PolicyChunk, pst.Template]]:
    """Each policy of the file with its syntax tree; syntax errors located by line."""
    parsed: list[tuple[PolicyChunk, pst.Template]] = []
    problems: list[PolicyProblem] = []
    for chunk in split_policies(text):
        try:
            parsed.append((chunk, _only_policy(cedarpy.policies_to_pst(chunk.text))))
        except ValueError as exc:
            message = f"syntax error: {exc}"
            if not chunk.terminated:
                message += " (is the `;` after the last policy missing?)"
            problems.append(PolicyProblem(file, _syntax_line(chunk, str(exc)), None, message))
    if problems:
        raise PolicyFileError(problems)
    return parsed


def _identify(
    parsed: list[tuple[PolicyChunk, pst.Template]],
    file: str,
    scope: Scope,
    directory: ScopeDirectory,
) -> list[PolicySource]:
    """The policies as sources, once each has a unique `@id` and keeps to `scope`."""
    sources: list[PolicySource] = []
    problems: list[PolicyProblem] = []
    first_line: dict[str, int] = {}
    for chunk, policy in parsed:
        policy_id = policy.annotations.get("id")
        problem = _id_problem(policy_id, first_line)
        if problem is None and policy_id is not None:
            first_line[policy_id] = chunk.line
            problem = scope_problem(policy, scope, directory)
            sources.append(PolicySource(policy_id, scope, chunk.text, file, chunk.line))
        if problem is not None:
            problems.append(PolicyProblem(file, chunk.line, policy_id, problem))
    if problems:
        raise PolicyFileError(problems)
    return sources


def compile_policy_set(sources: Iterable[PolicySource]) -> CompiledPolicySet:
    """Compile applied policies into one set keyed by `@id`.

    Raises:
        ConfigError: a text that does not hold exactly one policy, an `@id` that does
            not match the source's id, a template outside platform scope, or an id
            used twice (naming both places).
    """
    compiled: dict[str, CompiledPolicy] = {}
    for source in sources:
        policy = _compile_one(source)
        earlier = compiled.get(policy.id)
        if earlier is not None:
            raise ConfigError(
                f'policy id "{policy.id}" is used twice: {_where(earlier.source)} '
                f"and {_where(source)}"
            )
        compiled[policy.id] = policy
    policies = tuple(compiled[k] for k in sorted(compiled))
    canonical = orjson.dumps(
        [{"id": p.id, "scope": str(p.scope), "policy": p.est} for p in policies],
        option=orjson.OPT_SORT_KEYS,
    )
    return CompiledPolicySet(policies, hashlib.sha256(canonical).hexdigest())


def est_document(policies: Iterable[CompiledPolicy]) -> str:
    """A Cedar JSON policy set of `policies`, each under its `@id`."""
    static: dict[str, object] = {}
    templates: dict[str, object] = {}
    for policy in policies:
        (templates if policy.is_template else static)[policy.id] = policy.est
    document = {"staticPolicies": static, "templates": templates, "templateLinks": []}
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS).decode()


def validate_policy_set(compiled: CompiledPolicySet, schema: str | cedarpy.Schema) -> None:
    """Strict validation of a whole compiled set (a second line behind `parse_policy_file`).

    Raises:
        ConfigError: naming each failing policy by id.
    """
    if not compiled.policies:
        return
    text = cedarpy.policies_from_json_str(est_document(compiled.policies))
    problems = _validation_problems(text, schema)
    if problems:
        places = {p.id: _where(p.source) for p in compiled.policies}
        raise ConfigError(
            "\n".join(
                f'{places.get(p.policy_id or "", "?")}: policy "{p.policy_id}": {p.message}'
                for p in problems
            )
        )


def _compile_one(source: PolicySource) -> CompiledPolicy:
    try:
        document = orjson.loads(cedarpy.policies_to_json_str(source.text))
    except ValueError as exc:
        raise ConfigError(f'{_where(source)}: policy "{source.id}": {exc}') from exc
    entries = [
        (kind == "templates", est)
        for kind in ("staticPolicies", "templates")
        for est in document.get(kind, {}).values()
    ]
    if len(entries) != 1:
        raise ConfigError(
            f'{_where(source)}: policy "{source.id}": the text holds {len(entries)} policies, '
            "not one"
        )
    is_template, est = entries[0]
    annotations: dict[str, str] = est.get("annotations", {})
    if annotations.get("id") != source.id:
        raise ConfigError(
            f'{_where(source)}: policy "{source.id}": its @id is {annotations.get("id")!r}'
        )
    if is_template and source.scope.kind != "platform":
        raise ConfigError(
            f'{_where(source)}: policy "{source.id}": templates are platform-only, '
            f"not for scope {source.scope}"
        )
    effect: Effect = "forbid" if est["effect"] == "forbid" else "permit"
    return CompiledPolicy(
        source.id, source.scope, effect, is_template, annotations.get("reason"), est, source
    )


def _where(source: PolicySource) -> str:
    file = source.file or "<generated>"
    where = file if source.line is None else f"{file}:{source.line}"
    return f"{where} ({source.scope})"


def _only_policy(policy_set: pst.PolicySet) -> pst.Template:
    policies = [*policy_set.static_policies.values(), *policy_set.templates.values()]
    if len(policies) != 1:  # pragma: no cover - a chunk ends at its only `;`
        raise ValueError(f"expected one policy, found {len(policies)}")
    return policies[0]


def _id_problem(policy_id: str | None, first_line: Mapping[str, int]) -> str | None:
    if policy_id is None:
        return 'the policy has no @id("...") annotation; every policy needs a unique one'
    if not POLICY_ID.fullmatch(policy_id):
        return "@id must be letters, digits and _ . : / @ - (no spaces)"
    if policy_id in first_line:
        return f"@id is used twice in this file (first at line {first_line[policy_id]})"
    return None


def _syntax_line(chunk: PolicyChunk, message: str) -> int:
    """The line of a syntax error in `chunk`; cedarpy's messages carry no position.

    The parser stops at the first token that cannot continue the policy, so the first
    prefix of the policy's lines that fails with something other than "end of input"
    ends on that token's line. Errors found after parsing (an unknown function, a bad
    escape) name the culprit in backticks; the first line holding it is the answer.
    """
    lines = chunk.text.split("\n")
    if message == _END_OF_INPUT:
        return chunk.text_line + len(chunk.text.rstrip().split("\n")) - 1
    if not message.startswith(("unexpected token", "invalid token")):
        culprit = _BACKTICKED.search(message)
        return chunk.line if culprit is None else line_of(chunk, culprit.group(1))
    for count in range(1, len(lines) + 1):
        try:
            cedarpy.policies_to_json_str("\n".join(lines[:count]))
        except ValueError as exc:
            if str(exc) != _END_OF_INPUT:
                return chunk.text_line + count - 1
    return chunk.line


def _validation_problems(text: str, schema: str | cedarpy.Schema) -> list[PolicyProblem]:
    """Strict validation of `text`, problems named by `@id` (file and line left empty).

    The validator repeats a mistake once per action the policy may apply to; those
    repeats are folded into one problem.
    """
    result = cedarpy.validate_policies(text, schema, release_gil=True)
    if result.validation_passed:
        return []
    ids: dict[str, str] = result.id_annotations_by_policy_id
    grouped: dict[tuple[str | None, str], list[str]] = {}
    for error in result.errors:
        policy_id = ids.get(error.policy_id) or error.policy_id or None
        message = _VALIDATOR_PREFIX.sub("", error.error)
        grouped.setdefault((policy_id, _ACTION.sub("Action", message)), []).append(message)
    problems: list[PolicyProblem] = []
    for (policy_id, _), messages in grouped.items():
        first, *others = sorted(messages)
        if others:
            actions = [m.group(0) for other in others if (m := _ACTION.search(other))]
            first += f" (also for {', '.join(actions)})"
        problems.append(PolicyProblem("", None, policy_id, first))
    return problems
