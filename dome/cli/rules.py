"""`dome rules ...`, `dome grant`, `dome block`: Cedar policy through `/admin/v1/rules`.

The file is read here and sent whole; the broker parses, checks and publishes it
(docs/policy.md). Nothing is evaluated in the CLI.
"""

from __future__ import annotations

from pathlib import Path

import click

from dome.cli.client import JsonObject, admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import OutputFormat, echo_fields, echo_json, echo_records, output_option
from dome.cli.table import Column

LEVELS = ("public", "internal", "confidential", "restricted")
ACTIONS = ("invoke", "embed", "count_tokens", "list_models")

RULE_COLUMNS = (Column("ID", "id"), Column("SCOPE", "scope"), Column("FILE", "file"))
HISTORY_COLUMNS = (
    Column("VERSION", "version"),
    Column("CREATED", "created_at", "time"),
    Column("POLICIES", "count"),
    Column("NOTE", "note"),
)
FLIP_COLUMNS = (
    Column("CALL", "call_id"),
    Column("AGENT", "agent"),
    Column("ACTION", "action"),
    Column("MODEL", "model"),
    Column("WAS", "was"),
    Column("NOW", "now"),
    Column("WHY", "explanation"),
)
SHOW_FIELDS = (Column("id", "id"), Column("scope", "scope"), Column("file", "file"))


@click.group()
def rules() -> None:
    """Cedar policies: which agent may call which model, with what data."""


@rules.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--scope",
    default="platform",
    show_default=True,
    help="Where the file applies: platform, tenant:T, workspace:W or agent:A.",
)
@click.option("--dry-run", is_flag=True, help="Check and show flipped decisions; publish nothing.")
@output_option
@pass_session
def apply_rules(
    session: Session, file: Path, scope: str, dry_run: bool, output: str | None
) -> None:
    """Check FILE and publish its policies as a new version (all or nothing)."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {file}: {exc}", param_hint="FILE") from exc
    body: JsonObject = {"file": str(file), "text": text, "scope": scope, "dry_run": dry_run}
    with session.client() as client:
        result = client.post(admin_path("rules", "apply"), body)
    _echo_change(result, session.output_format(output))


@rules.command("list")
@output_option
@pass_session
def list_rules(session: Session, output: str | None) -> None:
    """The policies in force."""
    with session.client() as client:
        result = client.get(admin_path("rules"))
    data = result.get("data")
    records = [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []
    echo_records(records, RULE_COLUMNS, session.output_format(output), empty="no policies")


@rules.command("show")
@click.argument("policy_id")
@output_option
@pass_session
def show_rule(session: Session, policy_id: str, output: str | None) -> None:
    """One policy, with its Cedar text."""
    with session.client() as client:
        record = client.get(admin_path("rules", policy_id))
    fmt = session.output_format(output)
    echo_fields(record, SHOW_FIELDS, fmt)
    if fmt != "json":
        click.echo()
        click.echo(str(record.get("text", "")))


@rules.command("remove")
@click.argument("policy_id")
@output_option
@pass_session
def remove_rule(session: Session, policy_id: str, output: str | None) -> None:
    """Publish a new version without POLICY_ID."""
    with session.client() as client:
        result = client.delete_json(admin_path("rules", policy_id))
    _echo_change(result, session.output_format(output))


@rules.command("history")
@output_option
@pass_session
def rules_history(session: Session, output: str | None) -> None:
    """Every published policy version, newest first."""
    with session.client() as client:
        records = client.get_list(admin_path("rules", "history"))
    echo_records(records, HISTORY_COLUMNS, session.output_format(output), empty="no versions")


@rules.command("rollback")
@click.argument("version", type=click.IntRange(min=0))
@output_option
@pass_session
def rollback_rules(session: Session, version: int, output: str | None) -> None:
    """Publish VERSION's policies again, as a new version (0: no policies)."""
    with session.client() as client:
        result = client.post(admin_path("rules", "rollback"), {"version": version})
    _echo_change(result, session.output_format(output))


@rules.command("test")
@click.option("--agent", required=True, help="The agent asking.")
@click.option("--model", required=True, help="The model name it asks for.")
@click.option("--classification", type=click.Choice(LEVELS), help="As X-Dome-Classification.")
@click.option("--tokens", type=click.IntRange(min=0), default=0, help="Estimated tokens.")
@click.option("--action", type=click.Choice(ACTIONS), default="invoke", show_default=True)
@click.option("--region", help="Where the call comes from, as X-Dome-Region.")
@click.option("--stream", is_flag=True, help="A streamed call.")
@output_option
@pass_session
def test_rule(  # noqa: PLR0913, PLR0917 click passes one argument per option
    session: Session,
    agent: str,
    model: str,
    classification: str | None,
    tokens: int,
    action: str,
    region: str | None,
    stream: bool,
    output: str | None,
) -> None:
    """The decision for a call, and the policies behind it; nothing is called."""
    body: JsonObject = {"agent": agent, "model": model, "tokens": tokens, "action": action}
    if classification is not None:
        body["classification"] = classification
    if region is not None:
        body["region"] = region
    if stream:
        body["stream"] = True
    with session.client() as client:
        result = client.post(admin_path("rules", "test"), body)
    if session.output_format(output) == "json":
        echo_json(result)
        return
    click.echo(("ALLOW" if result.get("allowed") else "DENY") + f"  {result.get('explanation')}")
    for error in _strings(result.get("errors")):
        click.echo(f"error: {error}")


@rules.command("schema")
@pass_session
def show_schema(session: Session) -> None:
    """Print the Cedar schema policies are validated against."""
    with session.client() as client:
        result = client.get(admin_path("rules", "schema"))
    click.echo(str(result.get("schema", "")), nl=False)


def _shorthand(verb: str) -> click.Command:
    @click.command(verb)
    @click.option("--agent", help="Who: one agent.")
    @click.option("--workspace", help="Who: every agent of a workspace.")
    @click.option("--tenant", help="Who: every agent of a tenant.")
    @click.option("--pool", help="What: a pool.")
    @click.option("--model", help="What: a model entry.")
    @output_option
    @pass_session
    def command(
        session: Session,
        agent: str | None,
        workspace: str | None,
        tenant: str | None,
        pool: str | None,
        model: str | None,
        output: str | None,
    ) -> None:
        who = {
            k: v for k, v in (("agent", agent), ("workspace", workspace), ("tenant", tenant)) if v
        }
        if len(who) > 1:
            raise click.UsageError("name at most one of --agent, --workspace and --tenant")
        if (pool is None) == (model is None):
            raise click.UsageError("name exactly one of --pool and --model")
        body: JsonObject = {**who, **({"pool": pool} if pool else {"model": model})}
        with session.client() as client:
            result = client.post(admin_path("rules", verb), body)
        _echo_change(result, session.output_format(output))

    command.help = (
        "Permit every action on a pool or model (writes the Cedar for you)."
        if verb == "grant"
        else "Forbid every action on a pool or model (writes the Cedar for you)."
    )
    return command


grant = _shorthand("grant")
block = _shorthand("block")


def _echo_change(result: JsonObject, output: OutputFormat) -> None:
    if output == "json":
        echo_json(result)
        return
    applied = _strings(result.get("applied"))
    if result.get("dry_run"):
        click.echo(f"dry run: {len(applied)} policies checked, nothing published")
    else:
        click.echo(f"published policy version {result.get('version')}")
    if applied:
        click.echo("applied: " + ", ".join(applied))
    replaced = _strings(result.get("replaced"))
    if replaced:
        click.echo("replaced: " + ", ".join(replaced))
    flips = result.get("flips") or []
    if isinstance(flips, list) and flips:
        click.echo(f"{len(flips)} recent decisions would flip:")
        records = [flip for flip in flips if isinstance(flip, dict)]
        echo_records(records, FLIP_COLUMNS, "table", empty="")
    else:
        click.echo("no recent decision flips")


def _strings(value: object) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []
