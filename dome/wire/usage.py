"""What a provider reported about a call, normalized into one vocabulary (docs/usage.md).

Pure values; each format's `observe` module maps its own usage fields into these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ReportedUsage:
    """A call's usage in the broker's vocabulary, beside the provider's own `raw` terms.

    The counts follow OpenTelemetry's `gen_ai.usage.*` conventions:

    - `input_tokens`: every input token, cache reads and cache writes included;
    - `output_tokens`: every output token, reasoning included;
    - `cache_read_tokens`, `cache_write_tokens`: the part of `input_tokens` read from
      or written to the provider's prompt cache;
    - `reasoning_tokens`: the part of `output_tokens` spent reasoning;
    - `request_units`: requests billed as such, for providers that bill per request;
    - `counted_input_tokens`: a token count the call answered with
      (`/v1/messages/count_tokens`), which is not consumption: such a call consumed
      nothing, so its consumption counts are 0.

    None means the provider did not say. A usage object that omits a breakdown means
    none of it: the breakdowns are 0 then, as the canonical decoders read them.
    """

    raw: dict[str, Any]
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    request_units: int | None = None
    counted_input_tokens: int | None = None

    @property
    def total_tokens(self) -> int | None:
        """`input_tokens + output_tokens`, or None while either is unknown."""
        if self.input_tokens is None or self.output_tokens is None:
            return None
        return self.input_tokens + self.output_tokens


def counted_usage(raw: dict[str, Any], tokens: int | None) -> ReportedUsage:
    """The usage of a call that only counted tokens: nothing consumed, `tokens` counted."""
    return ReportedUsage(
        raw=raw,
        input_tokens=0,
        output_tokens=0,
        cache_read_tokens=0,
        cache_write_tokens=0,
        reasoning_tokens=0,
        counted_input_tokens=tokens,
    )


def as_count(value: object) -> int | None:
    """A token count: a non-negative JSON integer (not a bool, float or string), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def as_object(value: object) -> dict[str, Any]:
    """A nested usage object (`prompt_tokens_details`, ...); {} when absent or not one."""
    return value if isinstance(value, dict) else {}
