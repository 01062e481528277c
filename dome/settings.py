"""Process settings: read once from the environment and flags at startup, then frozen.

This is the only module that reads environment variables. The operator config
(tenants, agents, models) is not here: it lives in the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dome.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8480
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024  # Anthropic's own request limit


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    host: str
    port: int
    database_url: str
    master_key_env: str | None  # DOME_MASTER_KEY: comma-separated keys, active first
    max_body_bytes: int
    config_poll_seconds: float
    upstream_connect_timeout: float
    upstream_read_timeout: float
    log_level: str
    # Where calls come from when the agent does not say (X-Dome-Region); policy context.
    region: str = ""
    # How long one upstream attempt may take to show its first event (streams) or its
    # whole answer; past it the call fails over to the next candidate.
    first_byte_timeout: float = 300.0
    # All the attempts of one call together; past it the call stops failing over.
    call_deadline: float = 600.0
    # Budget counters shared by replicas (DOME_REDIS_URL); None: in the SQL store.
    redis_url: str | None = None
    # Where OpenTelemetry spans go (OTEL_EXPORTER_OTLP_ENDPOINT); None: no spans.
    otlp_endpoint: str | None = None

    def __repr__(self) -> str:
        key = "set" if self.master_key_env else "file"
        return (
            f"Settings(data_dir={self.data_dir}, listen={self.host}:{self.port}, master_key={key})"
        )


def default_data_dir(environ: Mapping[str, str]) -> Path:
    home = environ.get("DOME_HOME")
    return Path(home).expanduser() if home else Path.home() / ".dome"


def load(
    environ: Mapping[str, str],
    *,
    data_dir: Path | None = None,
    host: str | None = None,
    port: int | None = None,
    log_level: str | None = None,
) -> Settings:
    """Settings from flags (given here) over environment over defaults."""
    directory = (data_dir or default_data_dir(environ)).expanduser().resolve()
    database_url = environ.get("DOME_DATABASE_URL") or f"sqlite:///{directory / 'dome.db'}"
    return Settings(
        data_dir=directory,
        host=host or environ.get("DOME_HOST", DEFAULT_HOST),
        port=port if port is not None else _int(environ, "DOME_PORT", DEFAULT_PORT),
        database_url=database_url,
        master_key_env=environ.get("DOME_MASTER_KEY") or None,
        max_body_bytes=_int(environ, "DOME_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
        config_poll_seconds=_float(environ, "DOME_CONFIG_POLL_SECONDS", 1.0),
        upstream_connect_timeout=_float(environ, "DOME_UPSTREAM_CONNECT_TIMEOUT", 10.0),
        upstream_read_timeout=_float(environ, "DOME_UPSTREAM_READ_TIMEOUT", 600.0),
        log_level=(log_level or environ.get("DOME_LOG_LEVEL", "info")).lower(),
        region=environ.get("DOME_REGION", "").strip().lower(),
        first_byte_timeout=_float(environ, "DOME_FIRST_BYTE_TIMEOUT", 300.0),
        call_deadline=_float(environ, "DOME_CALL_DEADLINE", 600.0),
        redis_url=environ.get("DOME_REDIS_URL", "").strip() or None,
        otlp_endpoint=environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or None,
    )


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name)
    if not text:
        return default
    try:
        return int(text)
    except ValueError as exc:
        msg = f"{name} must be an integer, got {text!r}"
        raise ConfigError(msg) from exc


def _float(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name)
    if not text:
        return default
    try:
        return float(text)
    except ValueError as exc:
        msg = f"{name} must be a number, got {text!r}"
        raise ConfigError(msg) from exc
