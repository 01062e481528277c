"""The processes under test and how to reach them: the fake upstream (the "direct"
target), the broker, and optionally the reference proxy; all started, checked and ready.

The optional "translated" target is no process of its own: it is the broker again,
called in Anthropic Messages format for the same OpenAI-format model entries, so every
call is translated both ways (dialects.py).
"""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import payloads
import reference_proxy
from broker import Broker, free_port, provision, start_broker, wait_ready
from check import check_target
from dialects import CHAT, MESSAGES, Dialect
from processes import BenchError, Pinning, Processes
from results import Target

_BENCH = Path(__file__).resolve().parent
_START_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Server:
    """One target: its process, the ports for fast and paced calls, the key it wants,
    and the format it is called in."""

    process: subprocess.Popen[bytes]
    port: int
    paced_port: int
    token: str | None
    dialect: Dialect = CHAT

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.dialect.path}"

    def headers(self) -> tuple[tuple[str, str], ...]:
        return self.dialect.headers(self.token)

    def body(self, model: str, *, stream: bool) -> bytes:
        return self.dialect.body(model, stream=stream)


@dataclass(frozen=True, slots=True)
class Endpoints:
    servers: dict[Target, Server]  # in report order
    broker: Broker

    @property
    def targets(self) -> tuple[Target, ...]:
        return tuple(self.servers)


def start_upstream(processes: Processes, pinning: Pinning, log: Path) -> Server:
    argv = [*pinning.prefix(pinning.load_cpu), sys.executable, str(_BENCH / "upstream.py")]
    with log.open("wb") as stderr:
        child = processes.start(argv, stdout=subprocess.PIPE, stderr=stderr)
    assert child.stdout is not None  # noqa: S101 - stdout=PIPE above
    ready, _, _ = select.select([child.stdout], [], [], 15)
    line = child.stdout.readline().decode() if ready else ""
    if not line.startswith("READY "):
        detail = log.read_text(errors="replace")[-800:]
        msg = f"the fake upstream did not start: {line!r} {detail}"
        raise BenchError(msg)
    _, fast, paced = line.split()
    return Server(child, int(fast), int(paced), None)


def start_reference(processes: Processes, pinning: Pinning, upstream: Server, log: Path) -> Server:
    """The minimal proxy, on the broker's core (the two never run at the same time)."""
    port = free_port()
    argv = [
        *pinning.prefix(pinning.broker_cpu),
        sys.executable,
        str(_BENCH / "reference_proxy.py"),
        *map(str, (port, upstream.port, upstream.paced_port)),
    ]
    with log.open("wb") as output:
        child = processes.start(argv, stdout=output)
    deadline = time.monotonic() + _START_TIMEOUT
    while child.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            time.sleep(0.1)
        else:
            return Server(child, port, port, reference_proxy.TOKEN)
    msg = f"the reference proxy did not start: {log.read_text(errors='replace')[-800:]}"
    raise BenchError(msg)


def bring_up(
    processes: Processes,
    pinning: Pinning,
    workdir: Path,
    *,
    repo: Path,
    log_level: str | None,
    reference: bool,
    translated: bool,
) -> Endpoints:
    """Start every target, configure the broker, and check each one answers correctly."""
    upstream = start_upstream(processes, pinning, workdir / "upstream.log")
    servers: dict[Target, Server] = {"direct": upstream}
    if reference:
        servers["reference"] = start_reference(
            processes, pinning, upstream, workdir / "reference.log"
        )
    broker = start_broker(
        processes,
        python=sys.executable,
        repo=repo,
        data_dir=workdir / "data",
        pinning=pinning,
        log_level=log_level,
    )
    wait_ready(broker, timeout=_START_TIMEOUT)
    token = provision(broker, fast_port=upstream.port, paced_port=upstream.paced_port)
    servers["broker"] = Server(broker.process, broker.port, broker.port, token)
    if translated:
        servers["translated"] = Server(broker.process, broker.port, broker.port, token, MESSAGES)
    for target, server in servers.items():
        for port, model, label in (
            (server.port, payloads.FAST_MODEL, target),
            (server.paced_port, payloads.PACED_MODEL, f"{target} paced"),
        ):
            check_target(port, server.dialect, server.token, model, label)
    return Endpoints(servers, broker)
