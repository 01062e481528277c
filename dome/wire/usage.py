"""What a provider reported about a call, as read off its answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ReportedUsage:
    """Usage in the provider's own terms, plus the two counts every format has."""

    raw: dict[str, Any]
    input_tokens: int | None
    output_tokens: int | None


def as_count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
