"""Runs the `dome` CLI in-process against the fake admin API, in a clean environment."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner, Result

from dome.cli import CliContext, cli

from .fake_admin import FakeAdminApi

SECRET = "sk-ant-TEST-5ecret-value-9f8e7d"
# The seed's command, verbatim (issue 2, section 3).
SEED = (
    "model", "add", "anthropic-prod", "--provider", "anthropic",
    "--model", "claude-sonnet-4-6", "--auth-method", "api-key",
    "--credential-type", "shared",
)  # fmt: skip

# Variables of the developer's shell that would change what the CLI does.
CLEAN_ENV: dict[str, str | None] = dict.fromkeys(
    (
        "DOME_HOME",
        "DOME_URL",
        "DOME_ADMIN_TOKEN",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    )
)


def no_sleep(_: float) -> None:
    raise AssertionError("this command must not sleep")


@dataclass
class Dome:
    """Runs `dome` in-process against the fake admin API, in a clean environment.

    By default the data directory (`DOME_HOME`) holds the fake API's admin token.
    """

    api: FakeAdminApi
    data_dir: Path
    home: Path
    runner: CliRunner = field(default_factory=CliRunner)

    def run(
        self,
        *args: str,
        input: str | None = None,  # noqa: A002 CliRunner's own name
        env: Mapping[str, str | None] | None = None,
        interactive: bool = False,
        network: bool = False,
        sleep: Callable[[float], None] = no_sleep,
    ) -> Result:
        """Invoke `dome ARGS`; `network=True` uses a real transport, not the fake."""
        context = CliContext(
            transport=None if network else self.api.transport,
            is_interactive=lambda: interactive,
            sleep=sleep,
        )
        full_env = {
            **CLEAN_ENV,
            "HOME": str(self.home),
            "DOME_HOME": str(self.data_dir),
            **(env or {}),
        }
        return self.runner.invoke(cli, list(args), input=input, env=full_env, obj=context)


def assert_exit(result: Result, code: int) -> None:
    """The exit code is `code` and no unexpected exception (a traceback) escaped."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
