"""Match-when predicates: which requests a pool serves, and how specific a predicate is.

Pure: parsing, evaluation and ordering only. Patterns are case-sensitive shell globs
(`fnmatch.fnmatchcase`), so a model named "Claude-Haiku" is not "claude-haiku-*".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from types import MappingProxyType
from typing import Final

from dome.errors import ConfigError

ATTRIBUTES: Final[tuple[str, ...]] = (
    "request.model",
    "request.format",
    "request.stream",
    "request.classification",
    "agent.name",
    "agent.workspace",
    "agent.tenant",
    "request.region",
)
"""Every attribute a match-when may constrain, in the order predicates are printed."""

_KNOWN: Final = ", ".join(ATTRIBUTES)
_STREAM: Final = "request.stream"
_BOOLEANS: Final = ("true", "false")
_GLOB_CHARACTERS: Final = frozenset("*?[")


def is_glob(pattern: str) -> bool:
    """Whether `pattern` uses glob syntax (`*`, `?` or `[`), i.e. is not an exact value."""
    return not _GLOB_CHARACTERS.isdisjoint(pattern)


@dataclass(frozen=True, slots=True)
class MatchWhen:
    """A pool's predicate: every key must hold; a key holds when any of its patterns does.

    `conditions` is frozen and kept in `ATTRIBUTES` order so that printing, hashing and
    comparing do not depend on how the operator spelled the JSON. The empty predicate
    matches every request. Build one from operator input with `parse_match_when`;
    the constructor checks invariants only (known keys, non-empty string patterns).
    """

    conditions: Mapping[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        for key, value in self.conditions.items():
            _check_key(key)
            patterns: object = value  # checked at run time: callers may pass a list
            if not isinstance(patterns, tuple) or not patterns:
                raise ConfigError(f"match-when: {key} needs a non-empty list of values", param=key)
            for pattern in patterns:
                _check_pattern(key, pattern)
        ordered = {key: self.conditions[key] for key in ATTRIBUTES if key in self.conditions}
        object.__setattr__(self, "conditions", MappingProxyType(ordered))

    def __hash__(self) -> int:
        # The generated hash would hash the mapping itself, which is unhashable.
        return hash(tuple(self.conditions.items()))

    def to_json(self) -> dict[str, list[str]]:
        """The predicate as stored and shown: every value a list, keys in canonical order."""
        return {key: list(patterns) for key, patterns in self.conditions.items()}


def parse_match_when(value: object) -> MatchWhen:
    """Validate operator input (a dict, or its JSON text) into a `MatchWhen`.

    Accepted shapes, chosen so the CLI's `--match-when` stays short:

    - keys must be names from `ATTRIBUTES`;
    - a value is a non-empty list of non-empty strings; a single string is accepted as a
      one-element list (`{"agent.tenant": "acme"}`), and `to_json` writes it back as a list;
    - `request.stream` also takes JSON booleans; its values are normalized to "true" or
      "false" (strings in any case are accepted) and may not be globs;
    - duplicates are dropped, first spelling kept;
    - `{}` is the catch-all predicate.

    Raises:
        ConfigError: naming the offending key, e.g.
            `match-when: unknown attribute "request.modle"; known: request.model, ...`.
    """
    if isinstance(value, MatchWhen):
        return value
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ConfigError(f"match-when: not valid JSON: {exc}") from exc
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"match-when: expected a JSON object of attribute -> values, got {_kind(value)}"
        )
    conditions: dict[str, tuple[str, ...]] = {}
    for key, raw in value.items():
        _check_key(key)
        conditions[key] = _parse_values(key, raw)
    return MatchWhen(conditions)


def _check_key(key: object) -> None:
    if not isinstance(key, str) or key not in ATTRIBUTES:
        shown = json.dumps(key) if isinstance(key, str) else repr(key)
        raise ConfigError(
            f"match-when: unknown attribute {shown}; known: {_KNOWN}",
            param=key if isinstance(key, str) else None,
        )


def _check_pattern(key: str, pattern: object) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise ConfigError(f"match-when: {key} values must be non-empty strings", param=key)
    if key == _STREAM and pattern not in _BOOLEANS:
        raise ConfigError(
            f"match-when: {key} values must be true or false, got {pattern!r}", param=key
        )
    return pattern


def _parse_values(key: str, raw: object) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str | bool) else raw
    if not isinstance(items, list | tuple) or not items:
        raise ConfigError(f"match-when: {key} needs a non-empty list of values", param=key)
    values: list[str] = []
    for item in items:
        text = _check_pattern(key, _normalize_stream(item) if key == _STREAM else item)
        if text not in values:
            values.append(text)
    return tuple(values)


def _normalize_stream(item: object) -> object:
    # JSON true/false are the natural spelling; "True" from a shell is forgiven.
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, str):
        return item.strip().lower()
    return item


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class RequestAttributes:
    """The facts of one call that match-when predicates can see.

    Strings that the call does not have (no workspace, no region) are "" so that only
    a pattern like "*" matches them.
    """

    model: str  # the model or pool name the agent asked for
    format: str  # the agent's wire format: "openai" or "anthropic"
    stream: bool
    classification: str = ""
    agent: str = ""
    workspace: str = ""
    tenant: str = ""
    region: str = ""

    def value(self, attribute: str) -> str:
        """The attribute's value as patterns see it (`request.stream` is "true"/"false").

        Raises:
            KeyError: `attribute` is not in `ATTRIBUTES` (a programming error).
        """
        return _GETTERS[attribute](self)


_GETTERS: Final[Mapping[str, Callable[[RequestAttributes], str]]] = MappingProxyType(
    {
        "request.model": lambda a: a.model,
        "request.format": lambda a: a.format,
        "request.stream": lambda a: "true" if a.stream else "false",
        "request.classification": lambda a: a.classification,
        "agent.name": lambda a: a.agent,
        "agent.workspace": lambda a: a.workspace,
        "agent.tenant": lambda a: a.tenant,
        "request.region": lambda a: a.region,
    }
)


def matches(match: MatchWhen, attrs: RequestAttributes) -> bool:
    """Whether every key of `match` holds for `attrs` (any of its patterns, as globs)."""
    return all(
        any(fnmatchcase(attrs.value(key), pattern) for pattern in patterns)
        for key, patterns in match.conditions.items()
    )


def describe_match(match: MatchWhen, attrs: RequestAttributes) -> tuple[str, ...]:
    """One phrase per key saying why it holds or fails, for `dome route explain`.

    E.g. `request.model matches claude-haiku-*` or
    `request.model "gpt-4o" matches none of claude-haiku-*, gpt-5-mini`.
    """
    return tuple(phrase for _, phrase in _judge(match, attrs))


def describe_mismatch(match: MatchWhen, attrs: RequestAttributes) -> tuple[str, ...]:
    """The phrases of `describe_match` for the keys that fail only (empty when it matches)."""
    return tuple(phrase for holds, phrase in _judge(match, attrs) if not holds)


def _judge(match: MatchWhen, attrs: RequestAttributes) -> Iterator[tuple[bool, str]]:
    for key, patterns in match.conditions.items():
        actual = attrs.value(key)
        hit = next((pattern for pattern in patterns if fnmatchcase(actual, pattern)), None)
        if hit is not None:
            yield True, f"{key} matches {hit}"
        else:
            yield False, f"{key} {json.dumps(actual)} matches none of {', '.join(patterns)}"


def specificity(match: MatchWhen) -> tuple[int, int]:
    """A sort key where larger means more specific; the order is total on predicates.

    First the number of attributes constrained (more keys is more specific); among equal
    key counts, fewer glob patterns is more specific, so the second element is the
    negated number of glob patterns. `{}` is `(0, 0)`, the least specific of all.
    The measure is syntactic: `{"request.model": ["*"]}` counts as one key even though
    it accepts everything. Equal specificities are tied; pools break ties by `order`.
    """
    globs = sum(is_glob(pattern) for patterns in match.conditions.values() for pattern in patterns)
    return (len(match.conditions), -globs)
