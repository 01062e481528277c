"""A throwaway broker for the benchmark: start it, wait for it, configure it.

The broker runs as `python -m dome.cli serve` (one process, one worker) in a temporary
data directory, with DOME_* and proxy variables removed from its environment, and is
configured through the admin API. Nothing here imports `dome`: the broker is measured
from the outside, like any deployment.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import payloads
from processes import BenchError, Pinning, Processes

_CLEARED_PREFIXES = ("DOME_",)
_CLEARED_NAMES = frozenset(
    {"http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"}
)


@dataclass(frozen=True, slots=True)
class Broker:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no broker log)"
        return "\n".join(text.splitlines()[-lines:])


def clean_environment(environ: Mapping[str, str]) -> dict[str, str]:
    env = {
        name: value
        for name, value in environ.items()
        if name not in _CLEARED_NAMES and not name.startswith(_CLEARED_PREFIXES)
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_broker(
    processes: Processes,
    *,
    python: str,
    repo: Path,
    data_dir: Path,
    pinning: Pinning,
    log_level: str | None,
) -> Broker:
    port = free_port()
    log_path = data_dir.parent / "broker.log"
    argv = [
        *pinning.prefix(pinning.broker_cpu),
        python,
        "-m",
        "dome.cli",
        "serve",
        "--data-dir",
        str(data_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if log_level is not None:
        argv += ["--log-level", log_level]
    with log_path.open("wb") as log:
        child = processes.start(argv, env=clean_environment(os.environ), cwd=repo, stdout=log)
    return Broker(child, port, data_dir, log_path)


def wait_ready(broker: Broker, timeout: float) -> None:
    """Wait until the admin token exists and the port accepts connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker.process.poll() is not None:
            code = broker.process.returncode
            msg = f"the broker exited with {code}:\n{broker.log_tail()}"
            raise BenchError(msg)
        if (broker.data_dir / "admin-token").exists():
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", broker.port), timeout=1).close()
                return
        time.sleep(0.1)
    msg = f"the broker was not ready within {timeout:.0f} s:\n{broker.log_tail()}"
    raise BenchError(msg)


def _admin_post(broker: Broker, token: str, path: str, body: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{broker.port}/admin/v1/{path}",
        data=json.dumps(body).encode(),
        headers={
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
        },
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as answer:
            result: dict[str, object] = json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        msg = f"admin API POST {path} failed with {exc.code}: {detail}"
        raise BenchError(msg) from exc
    return result


def provision(broker: Broker, *, fast_port: int, paced_port: int) -> str:
    """Create a tenant, workspace, agent and the two models; return the agent token."""
    admin = (broker.data_dir / "admin-token").read_text().strip()
    _admin_post(broker, admin, "tenants", {"name": "bench"})
    _admin_post(broker, admin, "workspaces", {"name": "bench", "tenant": "bench"})
    agent = _admin_post(broker, admin, "agents", {"name": "bench", "workspace": "bench"})
    for name, port in (
        (payloads.FAST_MODEL, fast_port),
        (payloads.PACED_MODEL, paced_port),
    ):
        _admin_post(
            broker,
            admin,
            "models",
            {
                "name": name,
                "provider": "openai",
                "base_url": f"http://127.0.0.1:{port}/v1",
                "credential": "sk-bench",
            },
        )
    # Policy is on, as in production: a grant the bench agent's calls are decided by.
    rules = (
        '@id("bench.grant")\n'
        'permit(principal in Workspace::"bench", action in Action::"access", resource);\n'
    )
    _admin_post(
        broker, admin, "rules/apply", {"file": "bench.cedar", "text": rules, "scope": "platform"}
    )
    return str(agent["token"])
