"""Rendering a sitting's results as markdown, in the shape of research/perf-baseline.md.

Pure functions over `BenchResult`. "Added" is always a proxy's figure minus the direct
figure at the same connection count.
"""

from __future__ import annotations

from results import BenchResult, LoadRun, Memory, Target

_LABELS: dict[Target, str] = {
    "direct": "direct -> upstream",
    "reference": "reference proxy -> upstream",
    "broker": "broker -> upstream",
}
_MIB = 1024 * 1024
_MISSING = "-"
ADDED_P50_TARGET_MS = 1.0
THROUGHPUT_TARGET_RPS = 2500.0
RSS_TARGET_MIB = 120.0


def _ms(value: float) -> str:
    return f"{value:.2f}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _mib(memory: Memory) -> str:
    return f"{memory.idle / _MIB:.0f} -> {memory.peak / _MIB:.0f}"


def _load_table(result: BenchResult, *, stream: bool) -> list[str]:
    counts = result.connection_counts
    unit = "stream" if stream else "req"
    header = ["target"]
    for c in counts:
        header += [f"req/s c={c}", f"p50 / p99 ms c={c}", f"**added p50 ms c={c}**"]
    header += [
        f"CPU µs/{unit} (c={' / c='.join(map(str, counts))})",
        "RSS idle -> peak MiB",
        "errors",
    ]
    lines = [_row(header), _row(["---"] + ["---:"] * (len(header) - 1))]
    for target in result.targets:
        cells, cpu, errors = [_LABELS[target]], [], 0
        for c in counts:
            run = result.run(target, stream=stream, connections=c)
            direct = result.run("direct", stream=stream, connections=c)
            if run is None:
                cells += [_MISSING, _MISSING, _MISSING]
                cpu.append(_MISSING)
                continue
            cells += [
                f"{run.load.requests_per_second:.0f}",
                _p50_p99(run),
                _added(run, direct),
            ]
            cpu.append(f"{run.cpu_us_per_request:.0f}")
            errors += run.load.error_count
        memory = result.memory.get(target)
        cells += [" / ".join(cpu), _mib(memory) if memory else _MISSING, str(errors)]
        lines.append(_row(cells))
    return lines


def _p50_p99(run: LoadRun) -> str:
    return f"{_ms(run.load.p50_ms)} / {_ms(run.load.p99_ms)}"


def _added(run: LoadRun, direct: LoadRun | None) -> str:
    if run.target == "direct" or direct is None:
        return _MISSING
    return f"**{_ms(run.load.p50_ms - direct.load.p50_ms)}**"


def _probe_table(result: BenchResult) -> list[str]:
    direct = result.probe("direct")
    header = [
        "target",
        "requests",
        "first chunk p50 / p99 ms",
        "**added first chunk p50 ms**",
        "total p50 / p99 ms",
        "added total p50 ms",
        "min data events",
    ]
    lines = [_row(header), _row(["---"] + ["---:"] * (len(header) - 1))]
    for target in result.targets:
        probe = result.probe(target)
        if probe is None:
            continue
        added_first = added_total = _MISSING
        if target != "direct" and direct is not None:
            added_first = f"**{_ms(probe.first_p50_ms - direct.first_p50_ms)}**"
            added_total = _ms(probe.total_p50_ms - direct.total_p50_ms)
        lines.append(
            _row(
                [
                    _LABELS[target],
                    str(probe.requests),
                    f"{_ms(probe.first_p50_ms)} / {_ms(probe.first_p99_ms)}",
                    added_first,
                    f"{_ms(probe.total_p50_ms)} / {_ms(probe.total_p99_ms)}",
                    added_total,
                    str(probe.min_events),
                ]
            )
        )
    return lines


def _goal(what: str, wanted: str, measured: str, *, met: bool) -> list[str]:
    return [what, wanted, measured, "yes" if met else "**NO**"]


def goal_rows(result: BenchResult) -> list[list[str]]:
    """One row (what, wanted, measured, met) per broker goal this sitting has figures for."""
    rows = []
    broker = result.run("broker", stream=False, connections=1)
    direct = result.run("direct", stream=False, connections=1)
    if broker is not None and direct is not None:
        added = broker.load.p50_ms - direct.load.p50_ms
        wanted = f"<= {ADDED_P50_TARGET_MS:.0f} ms"
        rows.append(
            _goal(
                "added p50, non-streaming, c=1",
                wanted,
                f"{added:.2f} ms",
                met=added <= ADDED_P50_TARGET_MS,
            )
        )
    busy = result.run("broker", stream=False, connections=16)
    if busy is not None:
        rps = busy.load.requests_per_second
        wanted = f">= {THROUGHPUT_TARGET_RPS:,.0f} req/s"
        rows.append(
            _goal(
                "throughput, non-streaming, c=16",
                wanted,
                f"{rps:,.0f} req/s",
                met=rps >= THROUGHPUT_TARGET_RPS,
            )
        )
    memory = result.memory.get("broker")
    if memory is not None:
        peak = memory.peak / _MIB
        wanted = f"<= {RSS_TARGET_MIB:.0f} MiB"
        rows.append(
            _goal("RSS peak under load", wanted, f"{peak:.0f} MiB", met=peak <= RSS_TARGET_MIB)
        )
    return rows


def render(result: BenchResult) -> str:
    lines = [f"# Dome broker benchmark ({result.started_at})", ""]
    facts = {**result.machine, **result.settings}
    lines += [f"- {name}: {value}" for name, value in facts.items()]
    lines.append(f"- load average at end: {result.finished_load_average}")
    lines += ["", "## Non-streaming", "", *_load_table(result, stream=False)]
    if any(run.stream for run in result.runs):
        lines += ["", "## Streaming (20 chunks + [DONE], whole body per write)", ""]
        lines += _load_table(result, stream=True)
    if result.probes:
        lines += ["", "## Paced stream probe (21 events 5 ms apart, one connection)", ""]
        lines += _probe_table(result)
    lines += ["", "## Broker goals", "", _row(["goal", "wanted", "measured", "met"])]
    lines.append(_row(["---", "---", "---:", "---"]))
    lines += [_row(row) for row in goal_rows(result)]
    return "\n".join(lines) + "\n"
