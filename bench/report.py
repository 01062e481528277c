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


def goal_checks(result: BenchResult) -> list[tuple[str, str, str, bool]]:
    """(what, wanted, measured, met) for each broker goal this sitting has figures for."""
    checks = []
    broker, direct = (
        result.run("broker", stream=False, connections=1),
        result.run("direct", stream=False, connections=1),
    )
    if broker is not None and direct is not None:
        added = broker.load.p50_ms - direct.load.p50_ms
        checks.append(
            (
                "added p50, non-streaming, c=1",
                f"<= {ADDED_P50_TARGET_MS:.0f} ms",
                f"{added:.2f} ms",
                added <= ADDED_P50_TARGET_MS,
            )
        )
    busy = result.run("broker", stream=False, connections=16)
    if busy is not None:
        rps = busy.load.requests_per_second
        checks.append(
            (
                "throughput, non-streaming, c=16",
                f">= {THROUGHPUT_TARGET_RPS:,.0f} req/s",
                f"{rps:,.0f} req/s",
                rps >= THROUGHPUT_TARGET_RPS,
            )
        )
    memory = result.memory.get("broker")
    if memory is not None:
        peak = memory.peak / _MIB
        checks.append(
            (
                "broker RSS peak under load",
                f"<= {RSS_TARGET_MIB:.0f} MiB",
                f"{peak:.0f} MiB",
                peak <= RSS_TARGET_MIB,
            )
        )
    return checks


def render(result: BenchResult) -> str:
    settings = result.settings
    lines = [f"# Dome broker benchmark ({result.started_at})", ""]
    lines += [f"- {name}: {value}" for name, value in {**result.machine, **settings}.items()]
    lines.append(f"- load average at end: {result.finished_load_average}")
    lines += ["", "## Non-streaming", "", *_load_table(result, stream=False)]
    lines += ["", "## Streaming (20 chunks + [DONE], whole body per write)", ""]
    lines += _load_table(result, stream=True)
    lines += [
        "",
        "## Paced streaming probe (21 events 5 ms apart, one keep-alive connection)",
        "",
    ]
    lines += _probe_table(result)
    lines += [
        "",
        "## Targets",
        "",
        _row(["target", "wanted", "measured", "met"]),
        _row(["---", "---", "---:", "---"]),
    ]
    lines += [
        _row([what, wanted, got, "yes" if met else "**NO**"])
        for what, wanted, got, met in target_checks(result)
    ]
    return "\n".join(lines) + "\n"
