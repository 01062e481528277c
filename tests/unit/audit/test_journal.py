"""The start journal: lines on disk at once, segments dropped when their calls ended,
dead writers' starts recovered, a torn last line skipped."""

from __future__ import annotations

from pathlib import Path

from dome.audit.journal import StartJournal, orphans
from tests.unit.audit.test_writer import row


def test_starts_round_trip_exactly_through_a_dead_writers_journal(tmp_path: Path) -> None:
    journal = StartJournal(tmp_path, "chain_dead")
    journal.open()
    started = [row(n, "call_started") for n in range(3)]
    for start in started:
        journal.started(start)
    assert orphans(tmp_path).starts == []  # alive: its lock is held
    journal.close()  # as a killed process would leave it: calls never ended
    found = orphans(tmp_path)
    assert found.starts == started
    found.discard()
    assert list(tmp_path.iterdir()) == []


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    journal = StartJournal(tmp_path, "chain_torn")
    journal.open()
    journal.started(row(1, "call_started"))
    journal.close()
    (segment,) = tmp_path.glob("chain_torn.*.jsonl")
    with segment.open("ab") as file:
        file.write(b'{"call_id": "call_2", "started_')  # killed mid-write
    assert [r.call_id for r in orphans(tmp_path).starts] == ["call_1"]


def test_segments_go_once_every_call_in_them_ended(tmp_path: Path) -> None:
    journal = StartJournal(tmp_path, "chain_live")
    journal.open()
    journal.started(row(1, "call_started"))
    journal.started(row(2, "call_started"))
    journal.ended(["call_1"])
    assert len(segment_lines(tmp_path)) == 2  # call 2 still runs
    journal.ended(["call_2"])
    assert segment_lines(tmp_path) == []  # all ended: the segment starts afresh
    journal.close()
    assert list(tmp_path.iterdir()) == []


def segment_lines(directory: Path) -> list[bytes]:
    (segment,) = directory.glob("*.jsonl")
    return segment.read_bytes().splitlines()
