"""The text table renderer: alignment, missing values, flags and short timestamps."""

from __future__ import annotations

from dome.cli.table import (
    Column,
    format_cell,
    render_fields,
    render_table,
    shorten_timestamp,
)

COLUMNS = (
    Column("NAME", "name"),
    Column("ON", "on", "flag"),
    Column("AT", "at", "time"),
)


def test_columns_align_and_lines_have_no_trailing_space() -> None:
    records = [
        {"name": "a", "on": True, "at": "2026-05-09T07:35:25.5Z"},
        {"name": "longer-name", "on": False, "at": None},
    ]
    assert render_table(COLUMNS, records) == (
        "NAME         ON   AT\na            yes  2026-05-09 07:35:25\nlonger-name  no   -"
    )


def test_without_header_and_with_minimum_widths() -> None:
    columns = (Column("A", "a", min_width=5), Column("B", "b"))
    assert render_table(columns, [{"a": "x", "b": "y"}], header=False) == "x      y"


def test_fields_view() -> None:
    assert render_fields(COLUMNS, {"name": "m", "on": True}) == "NAME  m\nON    yes\nAT    -"


def test_cells() -> None:
    assert format_cell(None) == "-"
    assert format_cell("") == "-"
    assert format_cell(0) == "0"
    assert format_cell(12.5) == "12.5"
    assert format_cell(3.0) == "3"
    assert format_cell({"k": 1}) == "{'k': 1}"


def test_timestamps_are_shortened_to_utc_seconds() -> None:
    assert shorten_timestamp("2026-05-09T07:35:25.123456+00:00") == "2026-05-09 07:35:25"
    assert shorten_timestamp("2026-05-09T09:35:25+02:00") == "2026-05-09 07:35:25"
    assert shorten_timestamp("2026-05-09T07:35:25") == "2026-05-09 07:35:25"
    assert shorten_timestamp("yesterday") == "yesterday"


def test_lists_are_comma_separated_and_empty_ones_missing() -> None:
    assert format_cell(["team:ml", "batch"], "list") == "team:ml,batch"
    assert format_cell([], "list") == "-"
    assert format_cell(None, "list") == "-"
