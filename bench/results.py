"""The values one benchmark sitting produces, and their JSON form. Pure data, no I/O."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from probe import ProbeResult
from wrk import LoadResult

Target = Literal["direct", "reference", "broker", "translated"]


@dataclass(frozen=True, slots=True)
class LoadRun:
    """One measured wrk run; `cpu_seconds`: CPU the served process tree used in it."""

    target: Target
    stream: bool
    load: LoadResult
    cpu_seconds: float

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_seconds * 1e6 / self.load.requests if self.load.requests else 0.0


@dataclass(frozen=True, slots=True)
class ProbeRun:
    target: Target
    result: ProbeResult


@dataclass(frozen=True, slots=True)
class Memory:
    """RSS in bytes: idle after start-up and one call of each kind; peak over runs."""

    idle: int
    peak: int


@dataclass(frozen=True, slots=True)
class BenchResult:
    started_at: str
    targets: tuple[Target, ...]  # in report order; "direct" first
    settings: dict[str, str]
    machine: dict[str, str]
    runs: tuple[LoadRun, ...]
    probes: tuple[ProbeRun, ...]
    memory: dict[Target, Memory]  # one entry per process: not for targets in `shared`
    finished_load_average: str
    # A target served by another target's process (translated: the broker's), whose
    # memory is that process's and is reported once, in that target's row.
    shared: dict[Target, Target] = dataclasses.field(default_factory=dict)

    def run(self, target: Target, *, stream: bool, connections: int) -> LoadRun | None:
        for run in self.runs:
            if (run.target, run.stream, run.load.connections) == (
                target,
                stream,
                connections,
            ):
                return run
        return None

    def probe(self, target: Target) -> ProbeResult | None:
        return next((p.result for p in self.probes if p.target == target), None)

    @property
    def connection_counts(self) -> list[int]:
        return sorted({run.load.connections for run in self.runs})


def to_json(result: BenchResult) -> dict[str, object]:
    """A JSON-ready dict, with the derived per-run figures added for convenience."""
    data = dataclasses.asdict(result)
    for run, raw in zip(result.runs, data["runs"], strict=True):
        raw["requests_per_second"] = run.load.requests_per_second
        raw["cpu_us_per_request"] = run.cpu_us_per_request
    return data
