"""Data classification of a call: the label, its level, and the floors that raise it.

Cedar cannot order strings, so policies compare the level (public 0 .. restricted 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from dome.errors import ConfigError, InvalidRequestError

LEVELS: Final[Mapping[str, int]] = MappingProxyType(
    {"public": 0, "internal": 1, "confidential": 2, "restricted": 3}
)
DEFAULT_LABEL: Final = "internal"
HEADER: Final = "X-Dome-Classification"
_VALID: Final = ", ".join(LEVELS)


@dataclass(frozen=True, slots=True)
class Classification:
    label: str
    level: int
    floor_applied: bool = False  # the call declared (or defaulted to) less than a floor

    @classmethod
    def of(cls, label: str) -> Classification:
        """The classification of a known label (see `parse_label` for untrusted text)."""
        return cls(label, LEVELS[label])


def parse_label(text: str) -> str:
    """A configured label, normalized to lower case; unknown labels are a `ConfigError`."""
    label = text.strip().lower()
    if label not in LEVELS:
        raise ConfigError(f"unknown classification {text!r}: use one of {_VALID}")
    return label


def resolve_classification(
    declared: str | None,
    *,
    agent_default: str | None = None,
    agent_floor: str | None = None,
    workspace_default: str | None = None,
    workspace_floor: str | None = None,
) -> Classification:
    """The classification a call carries.

    The declared label (the `X-Dome-Classification` header, any case) wins; else the
    agent's default, else the workspace's, else "internal". The result is never below
    the higher of the two floors: it is raised to it, with `floor_applied` set.

    Raises:
        InvalidRequestError: the declared label is not a known one.
        ConfigError: a configured default or floor is not a known label.
    """
    if declared is not None:
        label = declared.strip().lower()
        if label not in LEVELS:
            raise InvalidRequestError(
                f"{HEADER}: unknown classification {declared!r}; use one of {_VALID}",
                param=HEADER,
            )
    else:
        configured = agent_default or workspace_default
        label = DEFAULT_LABEL if configured is None else parse_label(configured)
    result = Classification.of(label)
    floors = [Classification.of(parse_label(f)) for f in (agent_floor, workspace_floor) if f]
    floor = max(floors, key=lambda c: c.level, default=None)
    if floor is not None and floor.level > result.level:
        return Classification(floor.label, floor.level, floor_applied=True)
    return result
