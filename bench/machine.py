"""Facts about the machine and software a benchmark ran on, for the report header."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

PACKAGES = ("uvicorn", "uvloop", "httptools", "aiohttp", "orjson", "starlette")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _command(argv: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout or done.stderr).strip()


def git_revision(repo: Path) -> str:
    commit = _command(["git", "rev-parse", "--short", "HEAD"], repo) or "unknown"
    changed = _command(["git", "status", "--porcelain", "--", "dome"], repo)
    count = len(changed.splitlines()) if changed else 0
    return f"{commit} (+{count} uncommitted changes under dome/)" if count else commit


def machine_facts(repo: Path, wrk: str) -> dict[str, str]:
    wrk_version = _command([wrk, "-v"]).splitlines()
    facts = {
        "nproc": str(os.cpu_count()),
        "cpu": cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": wrk_version[0] if wrk_version else "unknown",
        "broker revision": git_revision(repo),
        "load average at start": "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
    }
    facts.update(package_versions())
    return facts
