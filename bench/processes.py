"""Child processes of the benchmark: pinned, each in its own group, always stopped.

Leaving a `Processes` block (normally, on an error or on Ctrl-C) sends SIGTERM to every
group it started, then SIGKILL to what is still alive after a grace period. It only ever
signals the process groups it created itself.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Self


class BenchError(Exception):
    """The benchmark cannot go on; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Pinning:
    """CPUs for taskset: the broker on one; the upstream, wrk and probe on another."""

    broker_cpu: int | None
    load_cpu: int | None
    note: str

    def prefix(self, cpu: int | None) -> list[str]:
        return ["taskset", "-c", str(cpu)] if cpu is not None else []


def choose_pinning(*, enabled: bool) -> Pinning:
    if not enabled:
        return Pinning(None, None, "off (--no-pin)")
    cpus = sorted(os.sched_getaffinity(0))
    if shutil.which("taskset") is None:
        return Pinning(None, None, "off (taskset not found)")
    if len(cpus) < 2:
        return Pinning(None, None, f"off (only {len(cpus)} CPU available)")
    return Pinning(
        cpus[0],
        cpus[1],
        f"broker on CPU {cpus[0]}; upstream, wrk, probe on CPU {cpus[1]}",
    )


class Processes:
    """Owns the children it starts; stops them all on exit."""

    def __init__(self, grace_seconds: float = 5.0) -> None:
        self._children: list[subprocess.Popen[bytes]] = []
        self._grace = grace_seconds

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def start(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stdout: IO[bytes] | int | None = subprocess.DEVNULL,
        stderr: IO[bytes] | int | None = subprocess.STDOUT,
    ) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        self._children.append(child)
        return child

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
    ) -> str:
        """Run a command to completion and return its stdout; kill it past `timeout`."""
        child = self.start(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            self.stop(child)
            msg = f"{shlex.join(argv)} did not finish within {timeout:.0f} s"
            raise BenchError(msg) from exc
        except BaseException:  # Ctrl-C or SIGTERM while waiting: stop it, keep failing
            self.stop(child)
            raise
        self._forget(child)
        if child.returncode != 0:
            detail = err.decode(errors="replace")[-800:]
            msg = f"{shlex.join(argv)} failed ({child.returncode}): {detail}"
            raise BenchError(msg)
        return out.decode(errors="replace")

    def stop(self, child: subprocess.Popen[bytes]) -> None:
        self._signal(child, signal.SIGTERM)
        try:
            child.wait(timeout=self._grace)
        except subprocess.TimeoutExpired:
            self._signal(child, signal.SIGKILL)
            child.wait(timeout=self._grace)
        self._forget(child)

    def stop_all(self) -> None:
        for child in self._children:
            self._signal(child, signal.SIGTERM)
        deadline = time.monotonic() + self._grace
        for child in self._children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal(child, signal.SIGKILL)
                child.wait(timeout=self._grace)
        self._children.clear()

    def _forget(self, child: subprocess.Popen[bytes]) -> None:
        if child in self._children:
            self._children.remove(child)

    @staticmethod
    def _signal(child: subprocess.Popen[bytes], signum: signal.Signals) -> None:
        if child.poll() is not None:
            return
        # The child leads its own process group (start_new_session=True).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signum)
