"""`dome agent create|list|revoke`: agents and Dome tokens via `/admin/v1/agents`.

The token exists in clear only in the create answer; this prints it there, once.
"""

from __future__ import annotations

import click

from dome.cli.client import admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import echo_json, echo_record, echo_records, output_option
from dome.cli.table import Column

COLUMNS = (
    Column("NAME", "name"),
    Column("WORKSPACE", "workspace"),
    Column("TENANT", "tenant"),
    Column("TOKEN", "token_prefix"),
    Column("STATUS", "status"),
    Column("CREATED", "created_at", "time"),
    Column("REVOKED", "revoked_at", "time"),
)


@click.group()
def agent() -> None:
    """Agents: the callers of the broker, each with its own Dome token."""


@agent.command("create")
@click.argument("name")
@click.option("--workspace", required=True, help="The workspace the agent belongs to.")
@output_option
@pass_session
def create_agent(session: Session, name: str, workspace: str, output: str | None) -> None:
    """Create agent NAME and print its Dome token, which is shown only this once.

    With --output json the printed object includes "token".
    """
    with session.client() as client:
        record = client.post(admin_path("agents"), {"name": name, "workspace": workspace})
    if session.output_format(output) == "json":
        echo_json(record)
        return
    click.echo(
        f"created agent {record.get('name')} "
        f"(workspace {record.get('workspace')}, tenant {record.get('tenant')})"
    )
    click.echo("Dome token (shown only this once; it cannot be retrieved later, store it now):")
    click.echo(str(record.get("token")))


@agent.command("list")
@output_option
@pass_session
def list_agents(session: Session, output: str | None) -> None:
    """List agents (tokens show only their prefix)."""
    with session.client() as client:
        records = client.get_list(admin_path("agents"))
    echo_records(records, COLUMNS, session.output_format(output), empty="no agents")


@agent.command("revoke")
@click.argument("name")
@output_option
@pass_session
def revoke_agent(session: Session, name: str, output: str | None) -> None:
    """Revoke agent NAME: its token stops working at once."""
    with session.client() as client:
        record = client.post(admin_path("agents", name, "revoke"))
    echo_record(record, COLUMNS, session.output_format(output))
