"""The facts of one call as Cedar's `RequestContext` (see schema.cedarschema).

Only integers, strings and booleans: Cedar rejects JSON floats and nulls (the request
then gets no decision at all), and `now` is a datetime string the schema parses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dome.policy.classification import Classification


@dataclass(frozen=True, slots=True)
class CallContext:
    requested_model: str  # the name the agent asked for
    classification: Classification
    region: str  # where the call comes from
    estimated_tokens: int  # input estimate + the most output the call may produce
    stream: bool
    format: str  # the agent's wire format: "openai" or "anthropic"
    now: datetime  # timezone-aware

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("CallContext.now must be timezone-aware")

    def to_cedar(self) -> dict[str, object]:
        """The context as sent to Cedar and stored in the audit record, for replay."""
        now = self.now.astimezone(UTC)
        return {
            "requested_model": self.requested_model,
            "classification": self.classification.label,
            "classification_level": self.classification.level,
            "region": self.region,
            "estimated_tokens": int(self.estimated_tokens),
            "stream": bool(self.stream),
            "format": self.format,
            # "2026-11-26T10:00:00Z": one of Cedar's datetime forms (isoformat is 5x faster
            # than strftime, and this runs on every call).
            "now": now.replace(tzinfo=None, microsecond=0).isoformat() + "Z",
            "hour": now.hour,
            "weekday": now.isoweekday(),
        }
