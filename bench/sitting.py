"""One benchmark sitting: start the upstream and the broker, check, load and probe them.

Each (mode, connection count) runs direct, then through the broker, back to back, so
slow drift on a shared machine touches both sides of every "added" figure alike.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import payloads
from broker import Broker, provision, start_broker, wait_ready
from check import check_target
from machine import machine_facts
from probe import run_probe
from processes import BenchError, Pinning, Processes
from procmon import RssSampler, cpu_seconds, rss_bytes
from results import TARGETS, BenchResult, LoadRun, Memory, ProbeRun, Target
from wrk import LoadResult, run_wrk

UPSTREAM_SCRIPT = Path(__file__).with_name("upstream.py")


@dataclass(frozen=True, slots=True)
class Options:
    duration: int
    warmup: int
    connections: tuple[int, ...]
    stream: bool
    probe_requests: int
    log_level: str | None


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The live processes under test and how to reach them."""

    upstream: subprocess.Popen[bytes]
    fast_port: int
    paced_port: int
    broker: Broker
    token: str

    def port(self, target: Target) -> int:
        return self.fast_port if target == "direct" else self.broker.port

    def url(self, target: Target) -> str:
        return f"http://127.0.0.1:{self.port(target)}/v1/chat/completions"

    def pid(self, target: Target) -> int:
        return self.upstream.pid if target == "direct" else self.broker.pid

    def token_for(self, target: Target) -> str | None:
        return None if target == "direct" else self.token


def start_upstream(
    processes: Processes, pinning: Pinning, log: Path
) -> tuple[subprocess.Popen[bytes], int, int]:
    with log.open("wb") as stderr:
        child = processes.start(
            [*pinning.prefix(pinning.load_cpu), sys.executable, str(UPSTREAM_SCRIPT)],
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    assert child.stdout is not None  # noqa: S101 - stdout=PIPE above
    ready, _, _ = select.select([child.stdout], [], [], 15)
    line = child.stdout.readline().decode() if ready else ""
    if not line.startswith("READY "):
        detail = log.read_text(errors="replace")[-800:]
        msg = f"the fake upstream did not start: {line!r} {detail}"
        raise BenchError(msg)
    _, fast, paced = line.split()
    return child, int(fast), int(paced)


def bring_up(
    processes: Processes, options: Options, pinning: Pinning, workdir: Path, repo: Path
) -> Endpoints:
    upstream, fast_port, paced_port = start_upstream(processes, pinning, workdir / "upstream.log")
    broker = start_broker(
        processes,
        python=sys.executable,
        repo=repo,
        data_dir=workdir / "data",
        pinning=pinning,
        log_level=options.log_level,
    )
    wait_ready(broker, timeout=60)
    token = provision(broker, fast_port=fast_port, paced_port=paced_port)
    endpoints = Endpoints(upstream, fast_port, paced_port, broker, token)
    for target in TARGETS:
        check_target(
            endpoints.port(target),
            endpoints.token_for(target),
            payloads.FAST_MODEL,
            target,
        )
    check_target(paced_port, None, payloads.PACED_MODEL, "direct (paced)")
    check_target(broker.port, token, payloads.PACED_MODEL, "broker (paced)")
    return endpoints


@dataclass(frozen=True, slots=True)
class LoadRunner:
    """Runs wrk against either target of one sitting."""

    processes: Processes
    endpoints: Endpoints
    pinning: Pinning
    wrk: str

    def once(self, target: Target, body: bytes, connections: int, seconds: int) -> LoadResult:
        return run_wrk(
            self.processes,
            wrk=self.wrk,
            url=self.endpoints.url(target),
            body=body,
            token=self.endpoints.token_for(target),
            connections=connections,
            seconds=seconds,
            pinning=self.pinning,
        )

    def measured(
        self, target: Target, *, stream: bool, connections: int, options: Options
    ) -> LoadRun:
        """Warm up (discarded), then measure one run and the target's CPU time."""
        body = payloads.chat_request(payloads.FAST_MODEL, stream=stream)
        if options.warmup > 0:
            self.once(target, body, connections, options.warmup)
        pid = self.endpoints.pid(target)
        before = cpu_seconds(pid)
        result = self.once(target, body, connections, options.duration)
        return LoadRun(target, stream, result, cpu_seconds(pid) - before)


def _describe(run: LoadRun) -> str:
    load = run.load
    return (
        f"{'stream' if run.stream else 'plain '} "
        f"c={load.connections:<3} {run.target:<6} "
        f"{load.requests_per_second:8.0f} req/s  p50 {load.p50_ms:7.2f} ms  "
        f"p99 {load.p99_ms:7.2f} ms  {run.cpu_us_per_request:6.0f} µs CPU/req  "
        f"errors {load.error_count}"
    )


def measure_load(runner: LoadRunner, options: Options, say: Callable[[str], None]) -> list[LoadRun]:
    runs = []
    for stream in (False, True) if options.stream else (False,):
        for connections in options.connections:
            for target in TARGETS:
                run = runner.measured(
                    target, stream=stream, connections=connections, options=options
                )
                runs.append(run)
                say(_describe(run))
    return runs


def measure_probes(
    endpoints: Endpoints, options: Options, say: Callable[[str], None]
) -> list[ProbeRun]:
    probes = []
    ports: dict[Target, int] = {
        "direct": endpoints.paced_port,
        "broker": endpoints.broker.port,
    }
    for target, port in ports.items():
        token = endpoints.token_for(target)
        result = run_probe(port, token, requests=options.probe_requests)
        probes.append(ProbeRun(target, result))
        say(
            f"probe  {target:<6} first data p50 {result.first_p50_ms:6.2f} ms  "
            f"end p50 {result.total_p50_ms:7.2f} ms  events {result.min_events}"
        )
    return probes


def _load_average() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def run_sitting(
    *,
    options: Options,
    pinning: Pinning,
    workdir: Path,
    repo: Path,
    wrk: str,
    say: Callable[[str], None],
) -> BenchResult:
    """Run one sitting; every process it starts is stopped before it returns."""
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    machine = machine_facts(repo, wrk)
    with Processes() as processes:
        endpoints = bring_up(processes, options, pinning, workdir, repo)
        broker = endpoints.broker
        say(f"broker pid {broker.pid} on :{broker.port}; functional check passed")
        idle = {target: rss_bytes(endpoints.pid(target)) for target in TARGETS}
        runner = LoadRunner(processes, endpoints, pinning, wrk)
        with (
            RssSampler(endpoints.broker.pid) as broker_rss,
            RssSampler(endpoints.upstream.pid) as upstream_rss,
        ):
            runs = measure_load(runner, options, say)
            probes = measure_probes(endpoints, options, say) if options.probe_requests > 0 else []
        if broker.process.poll() is not None:
            msg = f"the broker died during the runs:\n{broker.log_tail()}"
            raise BenchError(msg)
    settings = {
        "runs": f"wrk -t1, {options.duration} s each after {options.warmup} s warm-up",
        "connections": ", ".join(map(str, options.connections)),
        "pinning": pinning.note,
        "broker log level": options.log_level or "broker default",
        "paced probe": f"{options.probe_requests} requests after 3 warm-ups",
    }
    return BenchResult(
        started_at=started_at,
        settings=settings,
        machine=machine,
        runs=tuple(runs),
        probes=tuple(probes),
        memory={
            "broker": Memory(idle["broker"], max(broker_rss.peak, idle["broker"])),
            "direct": Memory(idle["direct"], max(upstream_rss.peak, idle["direct"])),
        },
        finished_load_average=_load_average(),
    )
