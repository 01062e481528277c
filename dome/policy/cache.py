"""Decisions remembered per engine, keyed on exactly what the policies can see.

A decision depends on the principal, the action, the resource, the entities (fixed for
one engine) and the context attributes the policies read. Reading the policies' own
syntax trees (Cedar's JSON form) tells which context attributes those are; the cache key
holds just them, so a rule set that never looks at `estimated_tokens` or the time lets
calls of any size share one decision. Anything the tree walk cannot account for (the
whole `context` used as a value) disables the cache: never a wrong answer, only a miss.
A set that reads `context.now` is not cached at all: its key would change every second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from dome.policy.decision import Decision

MAX_ENTRIES = 8192
"""Bounded memory: the cache starts over when it is full."""

_UNCACHEABLE_FIELDS = frozenset({"now"})


def context_fields(policies: Iterable[Mapping[str, object]]) -> tuple[str, ...] | None:
    """The context attributes the policies (Cedar JSON) read, sorted; None: unknowable."""
    fields: set[str] = set()
    for policy in policies:
        if not _collect(policy, fields):
            return None
    if fields & _UNCACHEABLE_FIELDS:
        return None
    return tuple(sorted(fields))


def _collect(node: object, fields: set[str]) -> bool:
    """Add the attributes read off `context` below `node`; False if context escapes."""
    if isinstance(node, list):
        return all(_collect(item, fields) for item in node)
    if not isinstance(node, dict):
        return True
    if node.get("Var") == "context":
        return False  # `context` as a whole value: anything could depend on it
    for key, value in node.items():
        if key in {".", "has"} and isinstance(value, dict) and _is_context(value.get("left")):
            attribute = value.get("attr")
            if not isinstance(attribute, str):
                return False
            fields.add(attribute)
            continue
        if not _collect(value, fields):
            return False
    return True


def _is_context(node: object) -> bool:
    return isinstance(node, dict) and node.get("Var") == "context"


class DecisionCache:
    """(agent, action, resources, the read context values) -> decisions."""

    __slots__ = ("_entries", "_fields")

    def __init__(self, fields: tuple[str, ...] | None) -> None:
        self._fields = fields
        self._entries: dict[tuple[object, ...], tuple[Decision, ...]] = {}

    @property
    def enabled(self) -> bool:
        return self._fields is not None

    def key(
        self, agent: str, action: str, resources: Sequence[str], context: Mapping[str, object]
    ) -> tuple[object, ...] | None:
        if self._fields is None:
            return None
        values = tuple(_hashable(context.get(field)) for field in self._fields)
        return (agent, action, tuple(resources), values)

    def get(self, key: tuple[object, ...]) -> tuple[Decision, ...] | None:
        return self._entries.get(key)

    def put(self, key: tuple[object, ...], decisions: tuple[Decision, ...]) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = decisions


def _hashable(value: object) -> object:
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value
