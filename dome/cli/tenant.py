"""`dome tenant create|list`: tenants through `/admin/v1/tenants`."""

from __future__ import annotations

import click

from dome.cli.client import admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import echo_record, echo_records, output_option
from dome.cli.table import Column

COLUMNS = (Column("NAME", "name"), Column("CREATED", "created_at", "time"))


@click.group()
def tenant() -> None:
    """Tenants: the top of tenant > workspace > agent."""


@tenant.command("create")
@click.argument("name")
@output_option
@pass_session
def create_tenant(session: Session, name: str, output: str | None) -> None:
    """Create tenant NAME."""
    with session.client() as client:
        record = client.post(admin_path("tenants"), {"name": name})
    echo_record(record, COLUMNS, session.output_format(output))


@tenant.command("list")
@output_option
@pass_session
def list_tenants(session: Session, output: str | None) -> None:
    """List tenants."""
    with session.client() as client:
        records = client.get_list(admin_path("tenants"))
    echo_records(records, COLUMNS, session.output_format(output), empty="no tenants")
