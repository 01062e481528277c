"""`dome agent create|list|show|update|revoke`: agents and Dome tokens via
`/admin/v1/agents`.

The token exists in clear only in the create answer; this prints it there, once.
"""

from __future__ import annotations

import click

from dome.cli.attributes import (
    LEVEL,
    LEVEL_OR_NONE,
    check_labels,
    put_clearable,
    require_changes,
)
from dome.cli.client import JsonObject, admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import echo_fields, echo_json, echo_record, echo_records, output_option
from dome.cli.table import Column

COLUMNS = (
    Column("NAME", "name"),
    Column("WORKSPACE", "workspace"),
    Column("TENANT", "tenant"),
    Column("TOKEN", "token_prefix"),
    Column("STATUS", "status"),
    Column("LABELS", "labels", "list"),
    Column("CLASSIFICATION", "classification_default"),
    Column("FLOOR", "classification_floor"),
    Column("CREATED", "created_at", "time"),
    Column("REVOKED", "revoked_at", "time"),
)
SHOW_FIELDS = (
    Column("name", "name"),
    Column("workspace", "workspace"),
    Column("tenant", "tenant"),
    Column("token prefix", "token_prefix"),
    Column("status", "status"),
    Column("labels", "labels", "list"),
    Column("classification default", "classification_default"),
    Column("classification floor", "classification_floor"),
    Column("created", "created_at", "time"),
    Column("revoked", "revoked_at", "time"),
)
LABEL_HELP = "A label policies can test (repeat for several)."


@click.group()
def agent() -> None:
    """Agents: the callers of the broker, each with its own Dome token."""


@agent.command("create")
@click.argument("name")
@click.option("--workspace", required=True, help="The workspace the agent belongs to.")
@click.option("--label", "labels", multiple=True, callback=check_labels, help=LABEL_HELP)
@click.option(
    "--classification-default",
    type=LEVEL,
    help="Classification of calls that name none [default: the workspace's].",
)
@click.option("--classification-floor", type=LEVEL, help="Raise every call to at least this level.")
@output_option
@pass_session
def create_agent(
    session: Session,
    name: str,
    workspace: str,
    labels: tuple[str, ...],
    classification_default: str | None,
    classification_floor: str | None,
    output: str | None,
) -> None:
    """Create agent NAME and print its Dome token, which is shown only this once.

    With --output json the printed object includes "token".
    """
    body: JsonObject = {"name": name, "workspace": workspace}
    if labels:
        body["labels"] = list(labels)
    put_clearable(body, "classification_default", classification_default)
    put_clearable(body, "classification_floor", classification_floor)
    with session.client() as client:
        record = client.post(admin_path("agents"), body)
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


@agent.command("show")
@click.argument("name")
@output_option
@pass_session
def show_agent(session: Session, name: str, output: str | None) -> None:
    """Show agent NAME with its labels and classifications."""
    with session.client() as client:
        record = client.get(admin_path("agents", name))
    echo_fields(record, SHOW_FIELDS, session.output_format(output))


@agent.command("update")
@click.argument("name")
@click.option("--label", "labels", multiple=True, callback=check_labels, help="Replace the labels.")
@click.option("--clear-labels", is_flag=True, help="Remove every label.")
@click.option("--classification-default", type=LEVEL_OR_NONE, help="Set it; none removes it.")
@click.option("--classification-floor", type=LEVEL_OR_NONE, help="Set it; none removes it.")
@output_option
@pass_session
def update_agent(
    session: Session,
    name: str,
    labels: tuple[str, ...],
    clear_labels: bool,
    classification_default: str | None,
    classification_floor: str | None,
    output: str | None,
) -> None:
    """Change the policy attributes of agent NAME; options not given stay as they are."""
    if labels and clear_labels:
        raise click.UsageError("use either --label or --clear-labels, not both")
    body: JsonObject = {}
    if labels or clear_labels:
        body["labels"] = list(labels)
    put_clearable(body, "classification_default", classification_default)
    put_clearable(body, "classification_floor", classification_floor)
    require_changes(
        body, "--label, --clear-labels, --classification-default or --classification-floor"
    )
    with session.client() as client:
        record = client.patch(admin_path("agents", name), body)
    echo_fields(record, SHOW_FIELDS, session.output_format(output))


@agent.command("revoke")
@click.argument("name")
@output_option
@pass_session
def revoke_agent(session: Session, name: str, output: str | None) -> None:
    """Revoke agent NAME: its token stops working at once."""
    with session.client() as client:
        record = client.post(admin_path("agents", name, "revoke"))
    echo_record(record, COLUMNS, session.output_format(output))
