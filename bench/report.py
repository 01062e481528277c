"""Rendering a sitting's results as markdown, in the shape of research/perf-baseline.md.

Pure functions over `BenchResult`. "Added" is always a proxy's figure minus the direct
figure at the same connection count. With a translated target, a last table gives its
figures minus the broker's: the cost of translation alone.
"""

from __future__ import annotations

from results import BenchResult, LoadRun, Memory, Target

_LABELS: dict[Target, str] = {
    "direct": "direct -> upstream",
    "reference": "reference proxy -> upstream",
    "broker": "broker -> upstream",
    "translated": "broker, translated (Anthropic agent -> OpenAI upstream)",
}
_MIB = 1024 * 1024
_MISSING = "-"
ADDED_P50_TARGET_MS = 1.0
THROUGHPUT_TARGET_RPS = 2500.0
RSS_TARGET_MIB = 120.0
_TRANSLATED_STREAM_NOTE = (
    "The translated target's agent gets the same stream as Anthropic events: "
    "message_start, ping, content_block_start, one content_block_delta per text chunk, "
    "content_block_stop, message_delta, message_stop."
)
_TRANSLATED_PROBE_NOTE = (
    "Events counted: `data:` events in OpenAI format; content_block_delta events in "
    "Anthropic format, in a stream checked to end with message_stop. The end is the end "
    "of the response body for every target."
)


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
        cells += [" / ".join(cpu), _memory_cell(result, target), str(errors)]
        lines.append(_row(cells))
    return lines


def _memory_cell(result: BenchResult, target: Target) -> str:
    owner = result.shared.get(target)
    if owner is not None:
        return f"in the {owner} row"
    memory = result.memory.get(target)
    return _mib(memory) if memory else _MISSING


def _shared_note(result: BenchResult) -> list[str]:
    """Say why a target has no memory figure of its own."""
    return [
        f"RSS is per process: the {target} target is served by the {owner}'s process, so "
        f"its memory is counted once, in the {owner} row (peak over the runs of both)."
        for target, owner in result.shared.items()
    ]


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
        "min events",
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
                    f"{probe.min_events} {probe.counted}",
                ]
            )
        )
    return lines


def _translation_table(result: BenchResult) -> list[str]:
    """Translated minus broker, per mode and connection count: translation alone."""
    header = [
        "mode",
        "connections",
        "req/s translated / broker",
        "**p50 ms vs broker**",
        "**CPU µs/req vs broker**",
    ]
    lines = [_row(header), _row(["---", "---:", "---:", "---:", "---:"])]
    for stream in sorted({run.stream for run in result.runs}):
        for c in result.connection_counts:
            translated = result.run("translated", stream=stream, connections=c)
            broker = result.run("broker", stream=stream, connections=c)
            if translated is None or broker is None:
                continue
            p50 = translated.load.p50_ms - broker.load.p50_ms
            cpu = translated.cpu_us_per_request - broker.cpu_us_per_request
            rps = (
                f"{translated.load.requests_per_second:.0f} / {broker.load.requests_per_second:.0f}"
            )
            lines.append(
                _row(
                    [
                        "stream" if stream else "non-streaming",
                        str(c),
                        rps,
                        f"**{p50:+.2f}**",
                        f"**{cpu:+.0f}**",
                    ]
                )
            )
    translated_probe, broker_probe = result.probe("translated"), result.probe("broker")
    if translated_probe is not None and broker_probe is not None:
        first = translated_probe.first_p50_ms - broker_probe.first_p50_ms
        total = translated_probe.total_p50_ms - broker_probe.total_p50_ms
        probe = f"first data p50 {first:+.2f} ms, end p50 {total:+.2f} ms"
        lines += ["", f"Paced probe, translated minus broker: {probe}."]
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
    translated = "translated" in result.targets
    if any(run.stream for run in result.runs):
        lines += ["", "## Streaming (20 chunks + [DONE], whole body per write)", ""]
        lines += _load_table(result, stream=True)
        if translated:
            lines += ["", _TRANSLATED_STREAM_NOTE]
    if result.shared:
        lines += ["", *_shared_note(result)]
    if result.probes:
        lines += ["", "## Paced stream probe (21 events 5 ms apart, one connection)", ""]
        lines += _probe_table(result)
        if translated:
            lines += ["", _TRANSLATED_PROBE_NOTE]
    if translated:
        lines += ["", "## Translation cost (translated minus broker, same sitting)", ""]
        lines += _translation_table(result)
    lines += ["", "## Broker goals", "", _row(["goal", "wanted", "measured", "met"])]
    lines.append(_row(["---", "---", "---:", "---"]))
    lines += [_row(row) for row in goal_rows(result)]
    return "\n".join(lines) + "\n"
