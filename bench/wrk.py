"""Closed-loop load: wrk (one thread) running bench/chat.lua, and its result line.

The URL carries the path; the body and the request headers (auth included) reach the
Lua script as BENCH_BODY and BENCH_HEADERS (one `name: value` per line).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from processes import BenchError, Pinning, Processes

LUA_SCRIPT = Path(__file__).with_name("chat.lua")
_MARKER = "BENCH_RESULT "
_ERROR_KINDS = ("connect", "read", "write", "status", "timeout")


@dataclass(frozen=True, slots=True)
class LoadResult:
    """One wrk run; latencies in ms; `errors` by kind (status: non-2xx/3xx answers)."""

    connections: int
    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    errors: dict[str, int]

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        msg = (
            "wrk is not installed. Install it with `apt-get install -y wrk` "
            "(Debian/Ubuntu; run `apt-get update` first if the package is not found)."
        )
        raise BenchError(msg)
    return path


def parse_result(output: str, connections: int) -> LoadResult:
    line = next((ln for ln in output.splitlines() if ln.startswith(_MARKER)), None)
    if line is None:
        msg = f"wrk printed no {_MARKER.strip()} line:\n{output[-800:]}"
        raise BenchError(msg)
    values = {k: float(v) for k, _, v in (f.partition("=") for f in line[len(_MARKER) :].split())}
    return LoadResult(
        connections=connections,
        requests=int(values["requests"]),
        duration_s=values["duration_us"] / 1e6,
        p50_ms=values["p50_us"] / 1e3,
        p90_ms=values["p90_us"] / 1e3,
        p99_ms=values["p99_us"] / 1e3,
        max_ms=values["max_us"] / 1e3,
        mean_ms=values["mean_us"] / 1e3,
        errors={kind: int(values[kind]) for kind in _ERROR_KINDS},
    )


def run_wrk(
    processes: Processes,
    *,
    wrk: str,
    url: str,
    body: bytes,
    headers: Sequence[tuple[str, str]],
    connections: int,
    seconds: int,
    pinning: Pinning,
) -> LoadResult:
    """One run of `wrk -t1 -cN -dS`, bounded by a hard timeout."""
    lines = "\n".join(f"{name}: {value}" for name, value in headers)
    env = dict(os.environ, BENCH_BODY=body.decode(), BENCH_HEADERS=lines, BENCH_TOKEN="")
    argv = [
        *pinning.prefix(pinning.load_cpu),
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        url,
    ]
    output = processes.run(argv, timeout=seconds + 30, env=env)
    return parse_result(output, connections)
