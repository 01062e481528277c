"""The start journal: where a call's start record is made durable before any provider
sees the call, for the price of one `write` system call.

Each writer appends start records, one JSON line each, to segment files in
`<data dir>/audit-journal/`, and holds an exclusive lock on `<chain>.lock` while it runs.
A call's start record is needed only until the call's end record is committed: a
segment is deleted once every call started in it has ended in the store. What survives
is the start of calls whose process died mid-call (killed, crashed, out of memory): the
next broker to start takes the dead writer's lock, turns each start without an end into
a `call_started` record (its outcome reads `incomplete`) and deletes the segments.

A written line survives the death of the process (it is in the kernel's page cache) as
a committed SQLite transaction in WAL mode with synchronous=NORMAL does; neither is
flushed to the disk per call.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from dome.store.records import AuditRow

logger = logging.getLogger("dome.audit")

_FIELDS = tuple(f.name for f in fields(AuditRow))
_SEGMENT_ROWS = 5000  # starts per segment before the next one begins


class JournalError(Exception):
    """A start record could not be written: the call must not go ahead."""


@dataclass(slots=True)
class _Segment:
    path: Path
    fd: int
    written: int = 0
    open_calls: int = 0


class StartJournal:
    """This process's start journal; `open()` creates it and takes its lock."""

    def __init__(self, directory: Path, chain_id: str) -> None:
        self._directory = directory
        self._chain = chain_id
        self._lock_fd = -1
        self._segments: list[_Segment] = []
        self._number = 0
        self._segment_of: dict[str, _Segment] = {}  # call id -> its start's segment

    def open(self) -> None:
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = self._directory / f"{self._chain}.lock"
        self._lock_fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._next_segment()

    def started(self, row: AuditRow) -> None:
        """Append `row` (a call's start) and return once the kernel has it.

        Raises JournalError (disk full, file gone): the call must be refused.
        """
        segment = self._segments[-1]
        line = orjson.dumps(_encode(row)) + b"\n"
        try:
            os.write(segment.fd, line)
        except OSError as exc:
            raise JournalError(str(exc)) from exc
        segment.written += 1
        segment.open_calls += 1
        self._segment_of[row.call_id] = segment
        if segment.written >= _SEGMENT_ROWS:
            self._next_segment()

    def ended(self, call_ids: list[str]) -> None:
        """The end records of `call_ids` are committed: their starts are not needed."""
        for call_id in call_ids:
            segment = self._segment_of.pop(call_id, None)
            if segment is not None:
                segment.open_calls -= 1
        current = self._segments[-1]
        done = [s for s in self._segments if s is not current and s.open_calls <= 0]
        for segment in done:
            self._segments.remove(segment)
            _discard(segment)
        if current.open_calls <= 0 and current.written:
            # Everything in the current segment ended too: start it afresh.
            os.ftruncate(current.fd, 0)
            current.written = 0

    def close(self) -> None:
        """At a clean shutdown, every call has ended: nothing is left to recover."""
        if self._segment_of:
            logger.warning("audit: %d calls never ended; kept for recovery", len(self._segment_of))
            for segment in self._segments:
                os.close(segment.fd)
        else:
            for segment in self._segments:
                _discard(segment)
        self._segments.clear()
        if self._lock_fd >= 0:
            if not self._segment_of:
                with contextlib.suppress(FileNotFoundError):
                    (self._directory / f"{self._chain}.lock").unlink()
            os.close(self._lock_fd)
            self._lock_fd = -1

    def _next_segment(self) -> None:
        self._number += 1
        path = self._directory / f"{self._chain}.{self._number:06d}.jsonl"
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND | os.O_TRUNC, 0o600)
        self._segments.append(_Segment(path, fd))


@dataclass(frozen=True, slots=True)
class Orphans:
    """Start records a dead writer left, and the files to delete once they are stored."""

    starts: list[AuditRow]
    files: list[Path]

    def discard(self) -> None:
        for path in self.files:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def orphans(directory: Path) -> Orphans:
    """The starts in every journal whose writer is gone (its lock is free)."""
    starts: list[AuditRow] = []
    files: list[Path] = []
    if not directory.is_dir():
        return Orphans(starts, files)
    for lock in sorted(directory.glob("*.lock")):
        with _taken(lock) as free:
            if not free:
                continue  # a live writer
            chain = lock.name.removesuffix(".lock")
            for segment in sorted(directory.glob(f"{chain}.*.jsonl")):
                starts.extend(_read(segment))
                files.append(segment)
            files.append(lock)
    return Orphans(starts, files)


@contextlib.contextmanager
def _taken(lock: Path) -> Iterator[bool]:
    fd = os.open(lock, os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _read(segment: Path) -> Iterator[AuditRow]:
    for line in segment.read_bytes().splitlines():
        try:
            yield _decode(orjson.loads(line))
        except (orjson.JSONDecodeError, TypeError, ValueError, KeyError):
            # The last line of a killed writer may be cut short: it never began a call.
            logger.warning("audit: skipped a torn line in %s", segment.name)


def _discard(segment: _Segment) -> None:
    os.close(segment.fd)
    with contextlib.suppress(FileNotFoundError):
        segment.path.unlink()


def _encode(row: AuditRow) -> dict[str, Any]:
    values = {name: value for name in _FIELDS if (value := getattr(row, name)) is not None}
    values["started_at"] = row.started_at.isoformat()
    return values


def _decode(values: dict[str, Any]) -> AuditRow:
    """Null fields were left out: the required ones come back as None, the others
    take their defaults."""
    known = {name: values[name] for name in _FIELDS if name in values}
    known["started_at"] = datetime.fromisoformat(values["started_at"])
    return AuditRow(**{**dict.fromkeys(_REQUIRED), **known})


_REQUIRED = tuple(f.name for f in fields(AuditRow) if f.default is MISSING)
