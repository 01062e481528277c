"""`dome tenant create|list|set`: tenants through `/admin/v1/tenants`."""

from __future__ import annotations

import click

from dome.cli.attributes import (
    CLEAR,
    REGION_PIN_HELP,
    check_region_pin,
    put_clearable,
    require_changes,
)
from dome.cli.client import JsonObject, admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import echo_record, echo_records, output_option
from dome.cli.table import Column

COLUMNS = (
    Column("NAME", "name"),
    Column("REGION", "region"),
    Column("CREATED", "created_at", "time"),
)


@click.group()
def tenant() -> None:
    """Tenants: the top of tenant > workspace > agent."""


@tenant.command("create")
@click.argument("name")
@click.option(
    "--region", callback=check_region_pin, help="Pin its calls to models of this region, e.g. eu."
)
@output_option
@pass_session
def create_tenant(session: Session, name: str, region: str | None, output: str | None) -> None:
    """Create tenant NAME."""
    if region == CLEAR:
        region = None  # no pin is what a new tenant has anyway
    body: JsonObject = {"name": name}
    put_clearable(body, "region", region)
    with session.client() as client:
        record = client.post(admin_path("tenants"), body)
    echo_record(record, COLUMNS, session.output_format(output))


@tenant.command("list")
@output_option
@pass_session
def list_tenants(session: Session, output: str | None) -> None:
    """List tenants."""
    with session.client() as client:
        records = client.get_list(admin_path("tenants"))
    echo_records(records, COLUMNS, session.output_format(output), empty="no tenants")


@tenant.command("set")
@click.argument("name")
@click.option("--region", callback=check_region_pin, help=REGION_PIN_HELP)
@output_option
@pass_session
def set_tenant(session: Session, name: str, region: str | None, output: str | None) -> None:
    """Change tenant NAME: its region pin (workspaces may override it)."""
    body: JsonObject = {}
    put_clearable(body, "region", region)
    require_changes(body, "--region")
    with session.client() as client:
        record = client.patch(admin_path("tenants", name), body)
    echo_record(record, COLUMNS, session.output_format(output))
