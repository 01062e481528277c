"""Where the CLI finds the broker and its admin token: flags, then env, then files.

Pure over its inputs (flag values, an environ mapping, files in the data directory);
no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dome.cli.errors import AdminTokenMissingError, ConnectionSettingsError

DEFAULT_URL = "http://127.0.0.1:8480"
DEFAULT_DATA_DIR = "~/.dome"
URL_FILE = "broker.url"
TOKEN_FILE = "admin-token"  # noqa: S105 a file name, not a secret

HOME_VAR = "DOME_HOME"
URL_VAR = "DOME_URL"
TOKEN_VAR = "DOME_ADMIN_TOKEN"  # noqa: S105 a variable name, not a secret


@dataclass(frozen=True, slots=True)
class Connection:
    """Everything needed to call the admin API; the token stays out of the repr."""

    url: str
    token: str = field(repr=False)
    data_dir: Path


def resolve_data_dir(flag: Path | None, environ: Mapping[str, str]) -> Path:
    """Pick `--data-dir`, else `DOME_HOME`, else `~/.dome`."""
    if flag is not None:
        return flag.expanduser()
    home = environ.get(HOME_VAR, "").strip()
    return Path(home or DEFAULT_DATA_DIR).expanduser()


def resolve_url(flag: str | None, environ: Mapping[str, str], data_dir: Path) -> str:
    """Pick `--url`, else `DOME_URL`, else `<data-dir>/broker.url`, else the default.

    The broker writes `broker.url` when it starts.
    """
    for candidate in (flag, environ.get(URL_VAR)):
        if candidate is not None and candidate.strip():
            return candidate.strip()
    return _read_setting(data_dir / URL_FILE) or DEFAULT_URL


def resolve_token(environ: Mapping[str, str], data_dir: Path) -> str:
    """Pick `DOME_ADMIN_TOKEN`, else `<data-dir>/admin-token`; never an argv value.

    Raises:
        AdminTokenMissingError: no source holds a token.
        ConnectionSettingsError: the token file cannot be read, or a token is malformed.

    """
    token_file = data_dir / TOKEN_FILE
    from_env = environ.get(TOKEN_VAR, "").strip()
    source, token = (
        (TOKEN_VAR, from_env) if from_env else (str(token_file), _read_setting(token_file))
    )
    if not token:
        raise AdminTokenMissingError(
            f"no admin token: set {TOKEN_VAR}, or point --data-dir (or {HOME_VAR}) "
            f"at the broker's data directory; 'dome serve' creates {token_file} "
            "on its first start and prints the token once"
        )
    # A token goes into an HTTP header: reject what a header cannot carry here, with a
    # message naming the source, rather than as an obscure transport error later.
    if not (token.isascii() and token.isprintable()) or " " in token:
        raise ConnectionSettingsError(f"the admin token in {source} is malformed")
    return token


def resolve_connection(
    *, data_dir_flag: Path | None, url_flag: str | None, environ: Mapping[str, str]
) -> Connection:
    """Resolve URL, token and data directory: flags beat env, env beats files."""
    data_dir = resolve_data_dir(data_dir_flag, environ)
    return Connection(
        url=resolve_url(url_flag, environ, data_dir),
        token=resolve_token(environ, data_dir),
        data_dir=data_dir,
    )


def _read_setting(path: Path) -> str:
    """Return a settings file's stripped contents, or "" when it does not exist."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
        raise ConnectionSettingsError(f"cannot read {path}: {reason}") from exc
