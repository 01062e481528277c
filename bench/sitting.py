"""One benchmark sitting: bring the targets up, then load them with wrk and probe them.

Each (mode, connection count) runs every target back to back (direct first), so slow
drift on a shared machine touches both sides of every "added" figure alike. Memory is
sampled per process: a target that shares another's process (translated: the broker's)
gets no memory figure of its own.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import payloads
from machine import machine_facts
from probe import run_probe
from processes import BenchError, Pinning, Processes
from procmon import RssSampler, cpu_seconds, rss_bytes
from results import BenchResult, LoadRun, Memory, ProbeRun, Target
from targets import Endpoints, bring_up
from wrk import LoadResult, run_wrk

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Options:
    duration: int
    warmup: int
    connections: tuple[int, ...]
    stream: bool
    probe_requests: int
    log_level: str | None
    reference: bool
    translated: bool = False


@dataclass(frozen=True, slots=True)
class LoadRunner:
    """Runs wrk against any target of one sitting."""

    processes: Processes
    endpoints: Endpoints
    pinning: Pinning
    wrk: str

    def once(self, target: Target, *, stream: bool, connections: int, seconds: int) -> LoadResult:
        server = self.endpoints.servers[target]
        body = server.body(payloads.FAST_MODEL, stream=stream)
        return run_wrk(
            self.processes,
            wrk=self.wrk,
            url=server.url(),
            body=body,
            headers=server.headers(),
            connections=connections,
            seconds=seconds,
            pinning=self.pinning,
        )

    def measured(
        self, target: Target, *, stream: bool, connections: int, options: Options
    ) -> LoadRun:
        """Warm up (discarded), then measure one run and the target's CPU time."""
        if options.warmup > 0:
            self.once(target, stream=stream, connections=connections, seconds=options.warmup)
        pid = self.endpoints.servers[target].process.pid
        before = cpu_seconds(pid)
        result = self.once(target, stream=stream, connections=connections, seconds=options.duration)
        return LoadRun(target, stream, result, cpu_seconds(pid) - before)


def _describe(run: LoadRun) -> str:
    load = run.load
    return (
        f"{'stream' if run.stream else 'plain '} c={load.connections:<3} {run.target:<10} "
        f"{load.requests_per_second:8.0f} req/s  p50 {load.p50_ms:7.2f} ms  "
        f"p99 {load.p99_ms:7.2f} ms  {run.cpu_us_per_request:6.0f} µs CPU/req  "
        f"errors {load.error_count}"
    )


def measure_load(runner: LoadRunner, options: Options, say: Say) -> list[LoadRun]:
    runs = []
    for stream in (False, True) if options.stream else (False,):
        for connections in options.connections:
            for target in runner.endpoints.targets:
                run = runner.measured(
                    target, stream=stream, connections=connections, options=options
                )
                runs.append(run)
                say(_describe(run))
    return runs


def measure_probes(endpoints: Endpoints, options: Options, say: Say) -> list[ProbeRun]:
    probes = []
    for target, server in endpoints.servers.items():
        result = run_probe(
            server.paced_port, server.dialect, server.token, requests=options.probe_requests
        )
        probes.append(ProbeRun(target, result))
        say(
            f"probe  {target:<10} first data p50 {result.first_p50_ms:6.2f} ms  "
            f"end p50 {result.total_p50_ms:7.2f} ms  {result.counted} events "
            f"{result.min_events}"
        )
    return probes


def _load_average() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _settings(options: Options, pinning: Pinning) -> dict[str, str]:
    settings = {
        "runs": f"wrk -t1, {options.duration} s each after {options.warmup} s warm-up",
        "connections": ", ".join(map(str, options.connections)),
        "pinning": pinning.note,
        "broker log level": options.log_level or "broker default",
        "paced probe": f"{options.probe_requests} requests after 3 warm-ups",
    }
    if options.translated:
        settings["translated target"] = (
            "the broker's process, called in Anthropic Messages format (POST /v1/messages, "
            "x-api-key, anthropic-version 2023-06-01) for the same OpenAI-format model "
            "entries: request and answer translated on every call"
        )
    return settings


def _shared_processes(endpoints: Endpoints) -> dict[Target, Target]:
    """Each target served by an earlier target's process, mapped to that target."""
    owners: dict[int, Target] = {}
    shared: dict[Target, Target] = {}
    for target, server in endpoints.servers.items():
        owner = owners.setdefault(server.process.pid, target)
        if owner != target:
            shared[target] = owner
    return shared


def run_sitting(
    *, options: Options, pinning: Pinning, workdir: Path, repo: Path, wrk: str, say: Say
) -> BenchResult:
    """Run one sitting; every process it starts is stopped before it returns."""
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    machine = machine_facts(repo, wrk)
    with Processes() as processes:
        endpoints = bring_up(
            processes,
            pinning,
            workdir,
            repo=repo,
            log_level=options.log_level,
            reference=options.reference,
            translated=options.translated,
        )
        broker = endpoints.broker
        say(f"broker pid {broker.pid} on :{broker.port}; functional checks passed")
        shared = _shared_processes(endpoints)
        pids = {
            target: server.process.pid
            for target, server in endpoints.servers.items()
            if target not in shared
        }
        idle = {target: rss_bytes(pid) for target, pid in pids.items()}
        runner = LoadRunner(processes, endpoints, pinning, wrk)
        with contextlib.ExitStack() as stack:
            samplers = {t: stack.enter_context(RssSampler(pid)) for t, pid in pids.items()}
            runs = measure_load(runner, options, say)
            probes = measure_probes(endpoints, options, say) if options.probe_requests else []
        if broker.process.poll() is not None:
            msg = f"the broker died during the runs:\n{broker.log_tail()}"
            raise BenchError(msg)
    return BenchResult(
        started_at=started_at,
        targets=endpoints.targets,
        settings=_settings(options, pinning),
        machine=machine,
        runs=tuple(runs),
        probes=tuple(probes),
        memory={t: Memory(idle[t], max(samplers[t].peak, idle[t])) for t in pids},
        finished_load_average=_load_average(),
        shared=shared,
    )
