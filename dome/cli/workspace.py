"""`dome workspace create|list|show|update|set`: workspaces through `/admin/v1/workspaces`.

`set` is `update` under a second name, as `dome tenant set` is spelled.
"""

from __future__ import annotations

import click

from dome.cli.attributes import (
    CLEAR,
    LEVEL,
    LEVEL_OR_NONE,
    REGION_PIN_HELP,
    check_place,
    check_region_pin,
    put_clearable,
    put_given,
    require_changes,
)
from dome.cli.client import JsonObject, admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import echo_fields, echo_record, echo_records, output_option
from dome.cli.table import Column

COLUMNS = (
    Column("NAME", "name"),
    Column("TENANT", "tenant"),
    Column("RESIDENCY", "residency"),
    Column("MAX", "max_classification"),
    Column("CLASSIFICATION", "classification_default"),
    Column("FLOOR", "classification_floor"),
    Column("REGION", "region"),
    Column("CREATED", "created_at", "time"),
)
SHOW_FIELDS = (
    Column("name", "name"),
    Column("tenant", "tenant"),
    Column("residency", "residency"),
    Column("max classification", "max_classification"),
    Column("classification default", "classification_default"),
    Column("classification floor", "classification_floor"),
    Column("region", "region"),
    Column("created", "created_at", "time"),
)
RESIDENCY_HELP = 'Where its data must stay, e.g. eu ("" for unrestricted).'


@click.group()
def workspace() -> None:
    """Workspaces: groups of agents inside a tenant."""


@workspace.command("create")
@click.argument("name")
@click.option("--tenant", required=True, help="The tenant that owns the workspace.")
@click.option("--residency", callback=check_place, help=RESIDENCY_HELP)
@click.option(
    "--max-classification",
    type=LEVEL,
    help="The highest level its calls may carry [default: restricted, no ceiling].",
)
@click.option("--classification-default", type=LEVEL, help="For calls that name none.")
@click.option("--classification-floor", type=LEVEL, help="Raise every call to at least this.")
@click.option(
    "--region",
    callback=check_region_pin,
    help="Pin its calls to models of this region, e.g. eu [default: the tenant's pin].",
)
@output_option
@pass_session
def create_workspace(  # noqa: PLR0913, PLR0917 click passes one argument per option
    session: Session,
    name: str,
    tenant: str,
    residency: str | None,
    max_classification: str | None,
    classification_default: str | None,
    classification_floor: str | None,
    region: str | None,
    output: str | None,
) -> None:
    """Create workspace NAME in a tenant."""
    body: JsonObject = {"name": name, "tenant": tenant}
    put_given(body, "residency", residency)
    put_clearable(body, "max_classification", max_classification)
    put_clearable(body, "classification_default", classification_default)
    put_clearable(body, "classification_floor", classification_floor)
    put_given(body, "region", None if region == CLEAR else region)
    with session.client() as client:
        record = client.post(admin_path("workspaces"), body)
    echo_record(record, COLUMNS, session.output_format(output))


@workspace.command("list")
@output_option
@pass_session
def list_workspaces(session: Session, output: str | None) -> None:
    """List workspaces."""
    with session.client() as client:
        records = client.get_list(admin_path("workspaces"))
    echo_records(records, COLUMNS, session.output_format(output), empty="no workspaces")


@workspace.command("show")
@click.argument("name")
@output_option
@pass_session
def show_workspace(session: Session, name: str, output: str | None) -> None:
    """Show workspace NAME with its residency and classifications."""
    with session.client() as client:
        record = client.get(admin_path("workspaces", name))
    echo_fields(record, SHOW_FIELDS, session.output_format(output))


@workspace.command("update")
@click.argument("name")
@click.option("--residency", callback=check_place, help=RESIDENCY_HELP)
@click.option("--max-classification", type=LEVEL, help="restricted means no ceiling.")
@click.option("--classification-default", type=LEVEL_OR_NONE, help="Set it; none removes it.")
@click.option("--classification-floor", type=LEVEL_OR_NONE, help="Set it; none removes it.")
@click.option("--region", callback=check_region_pin, help=REGION_PIN_HELP)
@output_option
@pass_session
def update_workspace(
    session: Session,
    name: str,
    residency: str | None,
    max_classification: str | None,
    classification_default: str | None,
    classification_floor: str | None,
    region: str | None,
    output: str | None,
) -> None:
    """Change the attributes of workspace NAME; options not given stay as they are."""
    body: JsonObject = {}
    put_given(body, "residency", residency)
    put_clearable(body, "max_classification", max_classification)
    put_clearable(body, "classification_default", classification_default)
    put_clearable(body, "classification_floor", classification_floor)
    put_clearable(body, "region", region)
    require_changes(
        body,
        "--residency, --max-classification, --classification-default,"
        " --classification-floor or --region",
    )
    with session.client() as client:
        record = client.patch(admin_path("workspaces", name), body)
    echo_fields(record, SHOW_FIELDS, session.output_format(output))


workspace.add_command(update_workspace, "set")
