"""Reads a provider secret from an env var, stdin or a hidden prompt; never from argv.

It hands the secret to its caller and prints no part of it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import click

from dome.cli.context import CliContext

F = TypeVar("F", bound=Callable[..., object])

# POSIX portable variable names; anything else is likely a pasted secret, not a name.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class SecretSource:
    """Where the user said the secret is; neither set means "prompt, if a terminal"."""

    env_var: str | None = None
    from_stdin: bool = False

    @property
    def is_given(self) -> bool:
        return self.env_var is not None or self.from_stdin


def secret_source_options(command: F) -> F:
    """Add `--credential-env VAR` and `--credential-stdin` to a command.

    They arrive as the parameters `credential_env` and `credential_stdin`.
    """
    command = click.option(
        "--credential-stdin",
        "credential_stdin",
        is_flag=True,
        help="Read the secret from standard input (one trailing newline is dropped).",
    )(command)
    return click.option(
        "--credential-env",
        "credential_env",
        metavar="VAR",
        default=None,
        help="Read the secret from environment variable VAR.",
    )(command)


def check_secret_source(source: SecretSource) -> None:
    """Reject contradictory sources before anything is read or sent."""
    if source.env_var is not None and source.from_stdin:
        raise click.UsageError("use either --credential-env or --credential-stdin, not both")


def read_secret(source: SecretSource, context: CliContext, *, prompt: str) -> str:
    """Read the secret from its source, else a hidden prompt when stdin is a terminal.

    Raises:
        click.UsageError: no source was given and there is no terminal to prompt on,
            or the chosen source is empty.

    """
    check_secret_source(source)
    if source.env_var is not None:
        return _from_env(source.env_var, context)
    if source.from_stdin:
        return _from_stdin()
    if not context.is_interactive():
        raise click.UsageError(
            "a secret is needed and standard input is not a terminal to prompt on: "
            "use --credential-env VAR or --credential-stdin"
        )
    # The prompt goes to stderr so that `--output json` keeps stdout pure JSON.
    secret: str = click.prompt(prompt, hide_input=True, type=str, err=True)
    return secret


def _from_env(name: str, context: CliContext) -> str:
    if not ENV_NAME.fullmatch(name):
        # Not echoed: a value that is not a variable name may be the secret itself.
        raise click.BadParameter(
            "expects the name of an environment variable, not the secret itself",
            param_hint="'--credential-env'",
        )
    secret = context.environ.get(name, "")
    if not secret:
        raise click.BadParameter(
            f"environment variable {name} is not set or is empty",
            param_hint="'--credential-env'",
        )
    return secret


def _from_stdin() -> str:
    data = sys.stdin.read()
    # Drop only the newline that `echo` or a here-doc adds; other whitespace may be key.
    secret = data.removesuffix("\n").removesuffix("\r")
    if not secret:
        raise click.BadParameter("standard input is empty", param_hint="'--credential-stdin'")
    return secret
