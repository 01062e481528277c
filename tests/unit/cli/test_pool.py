"""`dome model pool ...`: the seed's commands, what is sent and printed, and bad arguments
that send nothing."""

from __future__ import annotations

import json

import pytest

from .fake_admin import NOW, FakeAdminApi
from .harness import SECRET, SEED, Dome, assert_exit

# The seed's commands, verbatim (the routing issue).
MATCH = '{"request.model":["claude-haiku-4-5","gpt-5-mini"]}'
SEED_CREATE = ("model", "pool", "create", "cheap-reasoning", "--match-when", MATCH)
SEED_ADD = ("model", "pool", "add", "cheap-reasoning", "anthropic-prod")


def sent(api: FakeAdminApi) -> tuple[str, str, object]:
    request = api.requests[-1]
    body = json.loads(request.content) if request.content else None
    return request.method, request.url.raw_path.decode(), body


@pytest.fixture
def models(dome: Dome) -> None:
    assert_exit(dome.run(*SEED, "--credential-env", "K", env={"K": SECRET}), 0)
    assert_exit(dome.run("model", "add", "sim", "--provider", "mock"), 0)


@pytest.fixture
def seeded(dome: Dome, models: None) -> None:  # `models` first: members need them
    assert_exit(dome.run(*SEED_CREATE), 0)
    assert_exit(dome.run(*SEED_ADD), 0)


def test_seed_create_sends_the_match_when(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(*SEED_CREATE)

    assert_exit(result, 0)
    assert sent(api) == (
        "POST",
        "/admin/v1/pools",
        {
            "name": "cheap-reasoning",
            "match_when": {"request.model": ["claude-haiku-4-5", "gpt-5-mini"]},
        },
    )
    assert result.stdout.splitlines() == [
        "name        cheap-reasoning",
        f"match when  {MATCH}",
        "strategy    priority",
        "order       0",
        "created     2026-05-09 07:35:25",
        "",
        "no members",
    ]


@pytest.mark.usefixtures("models")
def test_seed_add_puts_the_member(dome: Dome, api: FakeAdminApi) -> None:
    dome.run(*SEED_CREATE)

    result = dome.run(*SEED_ADD)

    assert_exit(result, 0)
    assert sent(api) == ("PUT", "/admin/v1/pools/cheap-reasoning/members/anthropic-prod", {})
    assert result.stdout.splitlines()[-2:] == [
        "MODEL           PRIORITY  WEIGHT",
        "anthropic-prod  0         1",
    ]


def test_create_with_strategy_and_order_as_json(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(
        "model", "pool", "create", "spread", "--strategy", "weighted", "--order", "-3", "-o", "json"
    )

    assert_exit(result, 0)
    assert sent(api)[2] == {"name": "spread", "strategy": "weighted", "order": -3}
    assert json.loads(result.stdout) == {
        "name": "spread",
        "match_when": {},
        "strategy": "weighted",
        "order": -3,
        "members": [],
        "created_at": NOW,
    }


@pytest.mark.usefixtures("seeded")
def test_add_with_priority_and_weight_then_list_and_show(dome: Dome, api: FakeAdminApi) -> None:
    added = dome.run(
        "model", "pool", "add", "cheap-reasoning", "sim", "--priority", "-1", "--weight", "7"
    )
    assert_exit(added, 0)
    assert sent(api)[2] == {"priority": -1, "weight": 7}

    listed = dome.run("model", "pool", "list")
    shown = dome.run("model", "pool", "show", "cheap-reasoning")

    assert_exit(listed, 0)
    assert listed.stdout.splitlines() == [
        "NAME             STRATEGY  ORDER  MEMBERS             MATCH WHEN",
        f"cheap-reasoning  priority  0      sim,anthropic-prod  {MATCH}",
    ]
    assert shown.stdout.splitlines()[-3:] == [
        "MODEL           PRIORITY  WEIGHT",
        "sim             -1        7",
        "anthropic-prod  0         1",
    ]


@pytest.mark.usefixtures("seeded")
def test_list_and_show_json_are_the_api_records(dome: Dome, api: FakeAdminApi) -> None:
    listed = dome.run("model", "pool", "list", "-o", "json")
    shown = dome.run("--output", "json", "model", "pool", "show", "cheap-reasoning")

    assert json.loads(listed.stdout) == list(api.pools.values())
    assert json.loads(shown.stdout) == api.pools["cheap-reasoning"]
    assert json.loads(shown.stdout)["members"] == [
        {"model": "anthropic-prod", "priority": 0, "weight": 1}
    ]


def test_empty_list(dome: Dome) -> None:
    assert dome.run("model", "pool", "list").stdout == "no pools\n"
    assert json.loads(dome.run("model", "pool", "list", "-o", "json").stdout) == []


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    ("args", "body"),
    [
        (("--strategy", "cascade"), {"strategy": "cascade"}),
        (("--order", "4"), {"order": 4}),
        (
            ("--match-when", '{"agent.tenant": ["acme"]}'),
            {"match_when": {"agent.tenant": ["acme"]}},
        ),
        (("--match-when", "{}", "--strategy", "cost"), {"match_when": {}, "strategy": "cost"}),
    ],
)
def test_update_sends_only_what_is_given(
    dome: Dome, api: FakeAdminApi, args: tuple[str, ...], body: dict[str, object]
) -> None:
    result = dome.run("model", "pool", "update", "cheap-reasoning", *args, "-o", "json")

    assert_exit(result, 0)
    assert sent(api) == ("PATCH", "/admin/v1/pools/cheap-reasoning", body)
    record = json.loads(result.stdout)
    assert {key: record[key] for key in body} == body


@pytest.mark.usefixtures("seeded")
def test_remove_member_and_pool(dome: Dome, api: FakeAdminApi) -> None:
    left = dome.run("model", "pool", "remove-member", "cheap-reasoning", "anthropic-prod")
    assert_exit(left, 0)
    assert sent(api)[:2] == ("DELETE", "/admin/v1/pools/cheap-reasoning/members/anthropic-prod")
    assert left.stdout.splitlines()[-1] == "no members"

    removed = dome.run("model", "pool", "remove", "cheap-reasoning")
    assert_exit(removed, 0)
    assert removed.stdout == "removed pool cheap-reasoning\n"
    assert api.pools == {}
    assert "anthropic-prod" in api.models


@pytest.mark.usefixtures("seeded")
def test_remove_json_prints_nothing(dome: Dome) -> None:
    result = dome.run("model", "pool", "remove", "cheap-reasoning", "-o", "json")
    assert_exit(result, 0)
    assert result.stdout == ""


def test_names_are_encoded_in_the_path(dome: Dome, api: FakeAdminApi) -> None:
    dome.run("model", "add", "meta/llama", "--provider", "mock")
    dome.run("model", "pool", "create", "team/pool")

    result = dome.run("model", "pool", "add", "team/pool", "meta/llama")

    assert_exit(result, 0)
    assert sent(api)[1] == "/admin/v1/pools/team%2Fpool/members/meta%2Fllama"
    assert [m["model"] for m in api.pools["team/pool"]["members"]] == ["meta/llama"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "p", "--match-when", "{request.model: x}"), "Invalid value for '--match-when'"),
        (("create", "p", "--match-when", '["request.model"]'), "expected a JSON object"),
        (("create", "p", "--match-when", ""), "Invalid value for '--match-when'"),
        (("create", "p", "--strategy", "fastest"), "Invalid value for '--strategy'"),
        (("create", "p", "--order", "first"), "Invalid value for '--order'"),
        (("update", "p"), "nothing to change"),
        (("update", "p", "--match-when", "{"), "Invalid value for '--match-when'"),
        (("add", "p", "m", "--weight", "0"), "Invalid value for '--weight'"),
        (("add", "p", "m", "--weight", "1001"), "Invalid value for '--weight'"),
        (("add", "p", "m", "--priority", "1.5"), "Invalid value for '--priority'"),
        (("add", "p"), "Missing argument 'MODEL'"),
        (("remove-member", "p"), "Missing argument 'MODEL'"),
    ],
)
def test_bad_arguments_are_usage_errors_and_send_nothing(
    dome: Dome, api: FakeAdminApi, args: tuple[str, ...], message: str
) -> None:
    result = dome.run("model", "pool", *args)

    assert_exit(result, 2)
    assert message in result.stderr
    assert api.requests == []


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("model", "pool", "create", "cheap-reasoning"), "pool 'cheap-reasoning' already exists"),
        (("model", "pool", "create", "sim"), "a model is named 'sim'"),
        (("model", "add", "cheap-reasoning", "--provider", "mock"), "a pool is named"),
        (("model", "remove", "anthropic-prod"), "is a member of pool 'cheap-reasoning'"),
        (("model", "pool", "show", "ghost"), "pool 'ghost' not found"),
        (("model", "pool", "add", "cheap-reasoning", "ghost"), "model 'ghost' not found"),
        (("model", "pool", "remove-member", "cheap-reasoning", "sim"), "is not a member"),
        (
            ("model", "pool", "create", "p2", "--match-when", '{"request.modle": ["x"]}'),
            'unknown attribute "request.modle"',
        ),
    ],
)
def test_api_refusals_are_errors(dome: Dome, args: tuple[str, ...], message: str) -> None:
    result = dome.run(*args)

    assert_exit(result, 1)
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stdout == ""
