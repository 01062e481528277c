"""`dome audit tail`: newest last in tables, the API's order in JSON, and `--follow`."""

from __future__ import annotations

import json

import pytest

from .fake_admin import FakeAdminApi
from .harness import Dome, assert_exit


def call_ids(table: str) -> list[str]:
    return [line.split()[2] for line in table.splitlines()[1:]]


def test_table_is_oldest_first_newest_last(dome: Dome, api: FakeAdminApi) -> None:
    for n in range(3):
        api.add_audit(f"call-{n}")
    result = dome.run("audit", "tail")
    assert_exit(result, 0)
    header, *rows = result.stdout.splitlines()
    assert header.split() == [
        "TIME", "CALL", "AGENT", "MODEL", "PROVIDER", "STATUS", "POLICY", "MS", "TTFT",
        "IN", "OUT",
    ]  # fmt: skip
    assert rows[0].split() == [
        "2026-05-09", "07:35:25", "call-0", "bot", "claude-sonnet-4-6", "anthropic",
        "200", "allow", "12.5", "-", "10", "20",
    ]  # fmt: skip
    assert call_ids(result.stdout) == ["call-0", "call-1", "call-2"]


def test_n_is_sent_as_the_limit(dome: Dome, api: FakeAdminApi) -> None:
    for n in range(5):
        api.add_audit(f"call-{n}")
    result = dome.run("audit", "tail", "-n", "2")
    assert_exit(result, 0)
    assert api.requests[-1].url.params["limit"] == "2"
    assert call_ids(result.stdout) == ["call-3", "call-4"]


def test_default_limit_is_20(dome: Dome, api: FakeAdminApi) -> None:
    dome.run("audit", "tail")
    assert api.requests[-1].url.params["limit"] == "20"


def test_json_is_the_api_array_newest_first(dome: Dome, api: FakeAdminApi) -> None:
    first, second = api.add_audit("call-0"), api.add_audit("call-1")
    result = dome.run("audit", "tail", "--output", "json")
    assert_exit(result, 0)
    assert json.loads(result.stdout) == [second, first]


def test_empty(dome: Dome) -> None:
    assert dome.run("audit", "tail").stdout == "no audit records\n"


@pytest.mark.parametrize("count", ["0", "1001", "x"])
def test_bad_n_is_a_usage_error(dome: Dome, api: FakeAdminApi, count: str) -> None:
    result = dome.run("audit", "tail", "-n", count)
    assert_exit(result, 2)
    assert api.requests == []


class Polls:
    """A fake `sleep` that adds audit records between polls, then presses Ctrl-C."""

    def __init__(self, api: FakeAdminApi, batches: list[list[str]]) -> None:
        self.api = api
        self.batches = batches
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        if not self.batches:
            raise KeyboardInterrupt
        for call_id in self.batches.pop(0):
            self.api.add_audit(call_id)


def test_follow_prints_new_calls_until_ctrl_c(dome: Dome, api: FakeAdminApi) -> None:
    for n in range(3):
        api.add_audit(f"old-{n}")
    polls = Polls(api, [["new-0"], [], ["new-1", "new-2"]])
    result = dome.run("audit", "tail", "-n", "2", "--follow", sleep=polls)
    assert_exit(result, 0)
    assert polls.pauses == [1.0, 1.0, 1.0, 1.0]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("TIME")
    assert [line.split()[2] for line in lines[1:]] == [
        "old-1", "old-2", "new-0", "new-1", "new-2",
    ]  # fmt: skip
    assert "Aborted" not in result.output
    # Rows printed by different polls line up under the header.
    for column, header in ((2, "CALL"), (3, "AGENT"), (4, "MODEL")):
        starts = {line.index(line.split()[column]) for line in lines[1:]}
        assert starts == {lines[0].index(header)}


def test_follow_with_an_empty_trail_prints_the_header_then_rows(
    dome: Dome, api: FakeAdminApi
) -> None:
    result = dome.run("audit", "tail", "-f", sleep=Polls(api, [["first"]]))
    assert_exit(result, 0)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("TIME")
    assert [line.split()[2] for line in lines[1:]] == ["first"]


def test_follow_json_is_json_lines_oldest_first(dome: Dome, api: FakeAdminApi) -> None:
    api.add_audit("old")
    result = dome.run("audit", "tail", "-f", "-o", "json", sleep=Polls(api, [["a", "b"]]))
    assert_exit(result, 0)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["call_id"] for r in records] == ["old", "a", "b"]
