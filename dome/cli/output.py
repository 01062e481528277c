"""How commands print the admin API's answers: `--output table|json`, records to stdout.

JSON mode prints the API's JSON as is (a listing as an array of records) and nothing
else on stdout; table mode goes through `dome.cli.table`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, TypeVar

import click

from dome.cli.table import Column, render_fields, render_table

OutputFormat = Literal["table", "json"]
FORMATS: tuple[OutputFormat, ...] = ("table", "json")

F = TypeVar("F", bound=Callable[..., object])


def output_option(command: F) -> F:
    """Add `--output/-o table|json`, passed as `output` (None when not given)."""
    return click.option(
        "--output",
        "-o",
        "output",
        type=click.Choice(FORMATS),
        default=None,
        help="table (default) for people, json for scripts.",
    )(command)


def parse_output_format(value: str | None) -> OutputFormat | None:
    """Narrow click's `Choice` string to `OutputFormat`."""
    for known in FORMATS:
        if value == known:
            return known
    return None


def echo_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def echo_json_line(value: object) -> None:
    """Print one compact JSON document per line (JSON Lines), for `audit tail -f`."""
    click.echo(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def echo_records(
    records: Sequence[Mapping[str, object]],
    columns: Sequence[Column],
    output: OutputFormat,
    *,
    empty: str,
) -> None:
    """Print a listing: JSON array, or a table (the `empty` line when there is none)."""
    if output == "json":
        echo_json(list(records))
    elif records:
        click.echo(render_table(columns, records))
    else:
        click.echo(empty)


def echo_record(
    record: Mapping[str, object], columns: Sequence[Column], output: OutputFormat
) -> None:
    """Print one record: JSON object, or a one-row table."""
    if output == "json":
        echo_json(record)
    else:
        click.echo(render_table(columns, [record]))


def echo_fields(
    record: Mapping[str, object], columns: Sequence[Column], output: OutputFormat
) -> None:
    """Print one record: JSON object, or `label  value` lines."""
    if output == "json":
        echo_json(record)
    else:
        click.echo(render_fields(columns, record))
