"""`dome workspace create|list`: workspaces through `/admin/v1/workspaces`."""

from __future__ import annotations

import click

from dome.cli.client import admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import echo_record, echo_records, output_option
from dome.cli.table import Column

COLUMNS = (
    Column("NAME", "name"),
    Column("TENANT", "tenant"),
    Column("CREATED", "created_at", "time"),
)


@click.group()
def workspace() -> None:
    """Workspaces: groups of agents inside a tenant."""


@workspace.command("create")
@click.argument("name")
@click.option("--tenant", required=True, help="The tenant that owns the workspace.")
@output_option
@pass_session
def create_workspace(session: Session, name: str, tenant: str, output: str | None) -> None:
    """Create workspace NAME in a tenant."""
    with session.client() as client:
        record = client.post(admin_path("workspaces"), {"name": name, "tenant": tenant})
    echo_record(record, COLUMNS, session.output_format(output))


@workspace.command("list")
@output_option
@pass_session
def list_workspaces(session: Session, output: str | None) -> None:
    """List workspaces."""
    with session.client() as client:
        records = client.get_list(admin_path("workspaces"))
    echo_records(records, COLUMNS, session.output_format(output), empty="no workspaces")
