"""The root `dome` group: global options and the command tree; no HTTP happens here.

Other modules may add commands with `@cli.command()`; `dome serve` does (see
`dome.cli.main`).
"""

from __future__ import annotations

from pathlib import Path

import click

from dome.cli.admin import admin
from dome.cli.agent import agent
from dome.cli.audit import audit
from dome.cli.budget import budget
from dome.cli.context import CliContext, Session
from dome.cli.model import model
from dome.cli.output import output_option, parse_output_format
from dome.cli.route import route
from dome.cli.rules import block, grant, rules
from dome.cli.spend import spend
from dome.cli.tenant import tenant
from dome.cli.workspace import workspace


@click.group("dome")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The broker's data directory [default: $DOME_HOME, else ~/.dome].",
)
@click.option(
    "--url",
    metavar="URL",
    default=None,
    help=(
        "The broker's URL [default: $DOME_URL, else <data-dir>/broker.url,"
        " else http://127.0.0.1:8480]."
    ),
)
@output_option
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, url: str | None, output: str | None) -> None:
    """Configure a Dome Model Broker through its admin API.

    The admin token comes from $DOME_ADMIN_TOKEN, else <data-dir>/admin-token.
    """
    injected = ctx.obj if isinstance(ctx.obj, CliContext) else CliContext()
    ctx.obj = Session(
        context=injected,
        data_dir_flag=data_dir,
        url_flag=url,
        output=parse_output_format(output),
    )


cli.add_command(tenant)
cli.add_command(workspace)
cli.add_command(agent)
cli.add_command(model)
cli.add_command(audit)
cli.add_command(admin)
cli.add_command(rules)
cli.add_command(route)
cli.add_command(grant)
cli.add_command(block)
cli.add_command(budget)
cli.add_command(spend)
