"""Measure the broker's added latency, throughput, CPU and memory against direct calls.

Run from the repository root: `.venv/bin/python bench/run.py [flags]` (bench/README.md).
Prints a markdown report to stdout and progress to stderr; saves JSON to bench/results/.
Every process it starts and its temporary data directory are removed on exit, Ctrl-C
included.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from processes import BenchError, Pinning, choose_pinning
from report import render
from results import BenchResult, to_json
from sitting import Options, run_sitting
from wrk import require_wrk

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent


def _connections(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        msg = "expected comma-separated integers, e.g. 1,16,64"
        raise argparse.ArgumentTypeError(msg) from exc
    if not counts or min(counts) < 1:
        msg = "connection counts must be positive"
        raise argparse.ArgumentTypeError(msg)
    return counts


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=8,
        help="seconds per measured wrk run (default 8)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=2,
        help="seconds of discarded warm-up before each run (default 2)",
    )
    parser.add_argument(
        "--connections",
        type=_connections,
        default=(1, 16, 64),
        help="wrk connection counts (default 1,16,64)",
    )
    parser.add_argument(
        "--probe-requests",
        type=int,
        default=100,
        help="paced stream probe requests; 0 skips it (default 100)",
    )
    parser.add_argument("--no-stream", action="store_true", help="skip the streaming wrk runs")
    parser.add_argument(
        "--reference",
        action="store_true",
        help="also measure the minimal reference proxy (perf-baseline row c') on this machine",
    )
    parser.add_argument(
        "--translated",
        action="store_true",
        help="also measure the broker called in Anthropic Messages format for the same "
        "OpenAI-format upstream (every call translated both ways)",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin processes to CPUs with taskset",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        help="broker log level (default: the broker's own)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=BENCH_DIR / "results",
        help="where to save the JSON results",
    )
    parser.add_argument("--no-save", action="store_true", help="do not save JSON results")
    return parser.parse_args(argv)


def _say(line: str) -> None:
    print(f"[bench] {line}", file=sys.stderr, flush=True)


def _raise_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so every `finally` and context manager cleans up."""
    raise SystemExit(128 + signum)


def _pin_self(pinning: Pinning) -> None:
    """Put this process (sampler, probe, check) on the load core with wrk."""
    if pinning.load_cpu is not None:
        os.sched_setaffinity(0, {pinning.load_cpu})


def save(result: BenchResult, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"bench-{stamp}.json"
    path.write_text(json.dumps(to_json(result), indent=2) + "\n")
    return path


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    options = Options(
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        stream=not args.no_stream,
        probe_requests=args.probe_requests,
        log_level=args.log_level,
        reference=args.reference,
        translated=args.translated,
    )
    workdir = Path(tempfile.mkdtemp(prefix="dome-bench-"))
    try:
        wrk = require_wrk()
        pinning = choose_pinning(enabled=not args.no_pin)
        _pin_self(pinning)
        _say(f"pinning: {pinning.note}; work dir {workdir}")
        result = run_sitting(
            options=options,
            pinning=pinning,
            workdir=workdir,
            repo=REPO,
            wrk=wrk,
            say=_say,
        )
    except BenchError as error:
        _say(f"FAILED: {error}")
        return 1
    except KeyboardInterrupt:
        _say("interrupted; processes stopped")
        return 130
    except SystemExit:
        _say("terminated; processes stopped")
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(render(result))
    if not args.no_save:
        _say(f"saved {save(result, args.results_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
