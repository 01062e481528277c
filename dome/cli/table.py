"""Renders admin API records as compact, aligned text for people; pure, no I/O.

Scripts use `--output json` instead, which bypasses this module entirely.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

ColumnKind = Literal["text", "time", "flag", "list"]
GAP = "  "
MISSING = "-"


@dataclass(frozen=True, slots=True)
class Column:
    """One field shown as a column; `min_width` keeps `--follow` batches aligned."""

    header: str
    key: str
    kind: ColumnKind = "text"
    min_width: int = 0


def format_cell(value: object, kind: ColumnKind = "text") -> str:
    """Format a field: missing -> `-`, booleans -> yes/no, timestamps shortened, lists
    comma-separated."""
    if value is None or value in ("", []):
        return MISSING
    if kind == "list" and isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "time" and isinstance(value, str):
        return shorten_timestamp(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def shorten_timestamp(value: str) -> str:
    """Turn ISO 8601 into `YYYY-MM-DD HH:MM:SS` UTC; leave unparsable text as is."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def render_table(
    columns: Sequence[Column],
    records: Sequence[Mapping[str, object]],
    *,
    header: bool = True,
) -> str:
    """Render left-aligned columns, two spaces apart, without trailing whitespace."""
    rows = [[format_cell(record.get(c.key), c.kind) for c in columns] for record in records]
    if header:
        rows.insert(0, [c.header for c in columns])
    widths = [max([c.min_width, *(len(row[i]) for row in rows)]) for i, c in enumerate(columns)]
    return "\n".join(
        GAP.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def render_fields(columns: Sequence[Column], record: Mapping[str, object]) -> str:
    """Render one record as `label  value` lines, as `model show` does."""
    width = max((len(c.header) for c in columns), default=0)
    return "\n".join(
        f"{c.header.ljust(width)}{GAP}{format_cell(record.get(c.key), c.kind)}" for c in columns
    )
