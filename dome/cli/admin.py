"""`dome admin rotate-master-key`: broker-wide maintenance through the admin API."""

from __future__ import annotations

import click

from dome.cli.client import admin_path
from dome.cli.context import Session, pass_session
from dome.cli.output import echo_json, output_option


@click.group()
def admin() -> None:
    """Broker maintenance."""


@admin.command("rotate-master-key")
@output_option
@pass_session
def rotate_master_key(session: Session, output: str | None) -> None:
    """Make a new master key active and re-encrypt every stored secret with it."""
    with session.client() as client:
        result = client.post(admin_path("master-key", "rotate"))
    if session.output_format(output) == "json":
        echo_json(result)
        return
    click.echo(f"active master key id: {result.get('active_key_id')}")
    click.echo(f"ciphertexts re-encrypted: {result.get('reencrypted')}")
