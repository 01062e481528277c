"""`dome route explain`: where a call would go and why, through `/admin/v1/route/explain`."""

from __future__ import annotations

import click

from dome.cli.client import JsonObject, admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import echo_json, output_option

LEVELS = ("public", "internal", "confidential", "restricted")


@click.group()
def route() -> None:
    """How calls are routed: pools, strategies, region pins, failover."""


@route.command("explain")
@click.option("--agent", required=True, help="The agent calling.")
@click.option("--model", required=True, help="The model name it asks for.")
@click.option("--format", "fmt", type=click.Choice(("openai", "anthropic")), default="openai")
@click.option("--classification", type=click.Choice(LEVELS), help="As X-Dome-Classification.")
@click.option("--region", help="Where the call comes from, as X-Dome-Region.")
@click.option("--stream", is_flag=True, help="A streamed call.")
@click.option("--tokens", type=click.IntRange(min=0), default=0, help="Its maximum output.")
@output_option
@pass_session
def explain(  # noqa: PLR0913, PLR0917 click passes one argument per option
    session: Session,
    agent: str,
    model: str,
    fmt: str,
    classification: str | None,
    region: str | None,
    stream: bool,
    tokens: int,
    output: str | None,
) -> None:
    """The pool chosen and why, and each candidate in order with its fate."""
    body: JsonObject = {"agent": agent, "model": model, "format": fmt, "tokens": tokens}
    if classification is not None:
        body["classification"] = classification
    if region is not None:
        body["region"] = region
    if stream:
        body["stream"] = True
    with session.client() as client:
        result = client.post(admin_path("route", "explain"), body)
    if session.output_format(output) == "json":
        echo_json(result)
    else:
        click.echo(str(result.get("text", "")), nl=False)
