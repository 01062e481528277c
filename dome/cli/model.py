"""`dome model add|list|show|update|remove|set-credential`: `/admin/v1/models` entries,
and `dome model pool ...` (see `dome.cli.pool`).

Secrets go in (env var, stdin or hidden prompt) and never come back out: the API is
write-only for them and these commands print only `has_credential` and the key id.
"""

from __future__ import annotations

import click

from dome.cli.attributes import (
    CLEAR,
    check_place,
    check_price,
    check_tier,
    put_clearable,
    put_given,
    require_changes,
)
from dome.cli.client import JsonObject, admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import echo_fields, echo_records, output_option
from dome.cli.pool import pool
from dome.cli.secret_input import (
    SecretSource,
    check_secret_source,
    read_secret,
    secret_source_options,
)
from dome.cli.table import Column

PROVIDERS = ("openai", "anthropic", "openai-compatible", "mock")
AUTH_METHODS = ("api-key", "none")
CREDENTIAL_TYPES = ("shared", "none")
REGION_HELP = 'Where the provider serves it, e.g. eu-west-1 ("" when unknown).'
FAMILY_HELP = "Model family policies test [default: the model id without a date suffix]."
PRICE_HELP = "USD per million {} tokens, e.g. {} (a decimal number; cost routing reads it)."
# Hosted APIs that always need a key; the admin API enforces the same rule.
KEYED_PROVIDERS = frozenset({"openai", "anthropic"})

LIST_COLUMNS = (
    Column("NAME", "name"),
    Column("PROVIDER", "provider"),
    Column("MODEL", "model"),
    Column("BASE URL", "base_url"),
    Column("AUTH", "auth_method"),
    Column("CREDENTIAL", "has_credential", "flag"),
    Column("KEY ID", "credential_key_id"),
    Column("REGION", "region"),
    Column("TIER", "tier"),
    Column("FAMILY", "effective_family"),
    Column("IN $/M", "input_price"),
    Column("OUT $/M", "output_price"),
    Column("UPDATED", "updated_at", "time"),
)
SHOW_FIELDS = (
    Column("name", "name"),
    Column("provider", "provider"),
    Column("model", "model"),
    Column("base url", "base_url"),
    Column("auth method", "auth_method"),
    Column("credential type", "credential_type"),
    Column("has credential", "has_credential", "flag"),
    Column("credential key id", "credential_key_id"),
    Column("region", "region"),
    Column("tier", "tier"),
    Column("family", "effective_family"),
    Column("input price", "input_price"),
    Column("output price", "output_price"),
    Column("created", "created_at", "time"),
    Column("updated", "updated_at", "time"),
)


@click.group()
def model() -> None:
    """Model entries: the names agents ask for, mapped to a provider and credential."""


model.add_command(pool)


def default_auth_method(provider: str, source: SecretSource) -> str:
    """Pick api-key for providers that need a key or when a secret source is given."""
    return "api-key" if provider in KEYED_PROVIDERS or source.is_given else "none"


@model.command("add")
@click.argument("name")
@click.option("--provider", required=True, type=click.Choice(PROVIDERS), help="Provider kind.")
@click.option("--model", "model_id", metavar="ID", help="The provider's model id [default: NAME].")
@click.option("--base-url", metavar="URL", help="Provider endpoint (self-hosted or test server).")
@click.option(
    "--auth-method",
    type=click.Choice(AUTH_METHODS),
    help="[default: api-key for openai and anthropic, or when a secret source is given; else none]",
)
@click.option(
    "--credential-type",
    type=click.Choice(CREDENTIAL_TYPES),
    help="[default: shared when a secret is given, else none]",
)
@click.option("--region", callback=check_place, help=REGION_HELP)
@click.option(
    "--tier", callback=check_tier, help="e.g. standard, frontier, cheap [default: standard]."
)
@click.option("--family", metavar="FAMILY", help=FAMILY_HELP)
@click.option(
    "--price-input", callback=check_price, metavar="USD", help=PRICE_HELP.format("input", "3.00")
)
@click.option(
    "--price-output", callback=check_price, metavar="USD", help=PRICE_HELP.format("output", "15.00")
)
@secret_source_options
@output_option
@pass_session
def add_model(  # noqa: PLR0913, PLR0917 click passes one argument per option
    session: Session,
    name: str,
    provider: str,
    model_id: str | None,
    base_url: str | None,
    auth_method: str | None,
    credential_type: str | None,
    region: str | None,
    tier: str | None,
    family: str | None,
    price_input: str | None,
    price_output: str | None,
    credential_env: str | None,
    credential_stdin: bool,
    output: str | None,
) -> None:
    """Add model NAME served by a provider.

    With --auth-method api-key the secret comes from --credential-env VAR,
    --credential-stdin, or a hidden prompt when stdin is a terminal; never from argv.
    """
    source = SecretSource(credential_env, credential_stdin)
    check_secret_source(source)
    auth = auth_method or default_auth_method(provider, source)
    if auth == "none" and source.is_given:
        raise click.UsageError("a secret source needs --auth-method api-key")
    secret = None
    if auth == "api-key":
        secret = read_secret(source, session.context, prompt=f"Secret for model {name}")
    body: JsonObject = {
        "name": name,
        "provider": provider,
        "auth_method": auth,
        "credential_type": credential_type or ("shared" if secret is not None else "none"),
    }
    if model_id is not None:
        body["model"] = model_id
    if base_url is not None:
        body["base_url"] = base_url
    if secret is not None:
        body["credential"] = secret
    put_given(body, "region", region)
    put_given(body, "tier", tier)
    put_given(body, "family", family)
    put_given(body, "input_price", None if price_input == CLEAR else price_input)
    put_given(body, "output_price", None if price_output == CLEAR else price_output)
    with session.client() as client:
        record = client.post(admin_path("models"), body)
    echo_fields(record, SHOW_FIELDS, session.output_format(output))


@model.command("list")
@output_option
@pass_session
def list_models(session: Session, output: str | None) -> None:
    """List model entries (no secrets: only whether one is stored)."""
    with session.client() as client:
        records = client.get_list(admin_path("models"))
    echo_records(records, LIST_COLUMNS, session.output_format(output), empty="no models")


@model.command("show")
@click.argument("name")
@output_option
@pass_session
def show_model(session: Session, name: str, output: str | None) -> None:
    """Show model NAME: whether it has a credential and its key id, never the secret."""
    with session.client() as client:
        record = client.get(admin_path("models", name))
    echo_fields(record, SHOW_FIELDS, session.output_format(output))


@model.command("update")
@click.argument("name")
@click.option("--region", callback=check_place, help=REGION_HELP)
@click.option("--tier", callback=check_tier, help="e.g. standard, frontier, cheap.")
@click.option("--family", metavar="FAMILY", help=FAMILY_HELP)
@click.option("--clear-family", is_flag=True, help="Derive the family from the model id again.")
@click.option(
    "--price-input",
    callback=check_price,
    metavar="USD",
    help=PRICE_HELP.format("input", "3.00") + " none removes it.",
)
@click.option(
    "--price-output",
    callback=check_price,
    metavar="USD",
    help=PRICE_HELP.format("output", "15.00") + " none removes it.",
)
@output_option
@pass_session
def update_model(  # noqa: PLR0913, PLR0917 click passes one argument per option
    session: Session,
    name: str,
    region: str | None,
    tier: str | None,
    family: str | None,
    clear_family: bool,
    price_input: str | None,
    price_output: str | None,
    output: str | None,
) -> None:
    """Change the attributes of model NAME; options not given stay as they are."""
    if family is not None and clear_family:
        raise click.UsageError("use either --family or --clear-family, not both")
    body: JsonObject = {}
    put_given(body, "region", region)
    put_given(body, "tier", tier)
    put_given(body, "family", family)
    if clear_family:
        body["family"] = None
    put_clearable(body, "input_price", price_input)
    put_clearable(body, "output_price", price_output)
    require_changes(
        body, "--region, --tier, --family, --clear-family, --price-input or --price-output"
    )
    with session.client() as client:
        record = client.patch(admin_path("models", name), body)
    echo_fields(record, SHOW_FIELDS, session.output_format(output))


@model.command("remove")
@click.argument("name")
@output_option
@pass_session
def remove_model(session: Session, name: str, output: str | None) -> None:
    """Remove model NAME (with --output json, success prints nothing)."""
    with session.client() as client:
        client.delete(admin_path("models", name))
    if session.output_format(output) == "table":
        click.echo(f"removed model {name}")


@model.command("set-credential")
@click.argument("name")
@secret_source_options
@output_option
@pass_session
def set_credential(
    session: Session,
    name: str,
    credential_env: str | None,
    credential_stdin: bool,
    output: str | None,
) -> None:
    """Replace the secret of model NAME (rotation); same sources as `model add`."""
    source = SecretSource(credential_env, credential_stdin)
    secret = read_secret(source, session.context, prompt=f"New secret for model {name}")
    with session.client() as client:
        record = client.put(admin_path("models", name, "credential"), {"credential": secret})
    echo_fields(record, SHOW_FIELDS, session.output_format(output))
