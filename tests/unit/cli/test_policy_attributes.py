"""The policy attributes of agents, workspaces and models: set at create, changed by
`update` (only what is given), printed by `show`/`list`; bad arguments send nothing."""

from __future__ import annotations

import json

import pytest

from .fake_admin import FakeAdminApi
from .harness import Dome, assert_exit


def sent(api: FakeAdminApi) -> tuple[str, str, dict[str, object]]:
    request = api.requests[-1]
    body: dict[str, object] = json.loads(request.content) if request.content else {}
    return request.method, request.url.path, body


@pytest.fixture
def workspace(dome: Dome) -> None:
    assert_exit(dome.run("tenant", "create", "acme"), 0)
    assert_exit(dome.run("workspace", "create", "ws", "--tenant", "acme"), 0)


# agents


@pytest.mark.usefixtures("workspace")
def test_agent_create_sends_labels_and_classifications(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(
        "agent", "create", "bot", "--workspace", "ws", "--label", "team:ml", "--label", "batch",
        "--label", "team:ml", "--classification-default", "confidential",
        "--classification-floor", "internal", "-o", "json",
    )  # fmt: skip
    assert_exit(result, 0)
    assert sent(api) == (
        "POST",
        "/admin/v1/agents",
        {
            "name": "bot",
            "workspace": "ws",
            "labels": ["team:ml", "batch"],
            "classification_default": "confidential",
            "classification_floor": "internal",
        },
    )
    record = json.loads(result.stdout)
    assert record["labels"] == ["team:ml", "batch"]
    assert record["classification_default"] == "confidential"


@pytest.mark.usefixtures("workspace")
def test_agent_create_without_attributes_sends_none_of_them(dome: Dome, api: FakeAdminApi) -> None:
    assert_exit(dome.run("agent", "create", "bot", "--workspace", "ws"), 0)
    assert sent(api)[2] == {"name": "bot", "workspace": "ws"}


@pytest.mark.usefixtures("workspace")
def test_agent_show_and_list_print_the_attributes(dome: Dome) -> None:
    dome.run("agent", "create", "bot", "--workspace", "ws", "--label", "a", "--label", "b")
    dome.run("agent", "update", "bot", "--classification-floor", "internal")

    shown = dome.run("agent", "show", "bot")
    listed = dome.run("agent", "list")

    assert_exit(shown, 0)
    assert "labels                  a,b" in shown.stdout.splitlines()
    assert "classification default  -" in shown.stdout.splitlines()
    assert "classification floor    internal" in shown.stdout.splitlines()
    assert listed.stdout.splitlines()[1].split()[5:8] == ["a,b", "-", "internal"]
    as_json = json.loads(dome.run("agent", "show", "bot", "-o", "json").stdout)
    assert as_json["labels"] == ["a", "b"]


@pytest.mark.usefixtures("workspace")
@pytest.mark.parametrize(
    ("args", "body"),
    [
        (("--label", "x", "--label", "y"), {"labels": ["x", "y"]}),
        (("--clear-labels",), {"labels": []}),
        (("--classification-default", "public"), {"classification_default": "public"}),
        (("--classification-default", "none"), {"classification_default": None}),
        (
            ("--classification-floor", "restricted", "--label", "z"),
            {"labels": ["z"], "classification_floor": "restricted"},
        ),
    ],
)
def test_agent_update_sends_only_what_is_given(
    dome: Dome, api: FakeAdminApi, args: tuple[str, ...], body: dict[str, object]
) -> None:
    dome.run("agent", "create", "bot", "--workspace", "ws", "--classification-default", "internal")

    result = dome.run("agent", "update", "bot", *args)

    assert_exit(result, 0)
    assert sent(api) == ("PATCH", "/admin/v1/agents/bot", body)
    assert result.stdout.startswith("name ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to change"),
        (("--label", "x", "--clear-labels"), "either --label or --clear-labels"),
        (("--label", "has space"), "Invalid value for '--label'"),
        (("--label", "x/y"), "Invalid value for '--label'"),
        (tuple(f"--label=l{i}" for i in range(33)), "at most 32 labels"),
        (("--classification-default", "secret"), "Invalid value for '--classification-default'"),
        (("--classification-floor", "Public"), "Invalid value for '--classification-floor'"),
    ],
)
def test_agent_update_bad_arguments_send_nothing(
    dome: Dome, api: FakeAdminApi, args: tuple[str, ...], message: str
) -> None:
    result = dome.run("agent", "update", "bot", *args)
    assert_exit(result, 2)
    assert message in result.stderr
    assert api.requests == []


def test_agent_create_bad_classification_sends_nothing(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(
        "agent", "create", "bot", "--workspace", "ws", "--classification-floor", "none"
    )
    assert_exit(result, 2)
    assert "Invalid value for '--classification-floor'" in result.stderr
    assert api.requests == []


def test_agent_update_unknown_is_a_404_error(dome: Dome) -> None:
    result = dome.run("agent", "update", "ghost", "--clear-labels")
    assert_exit(result, 1)
    assert result.stderr == "error: no agent named 'ghost'\n"
    assert dome.run("agent", "show", "ghost").stderr == "error: no agent named 'ghost'\n"


# workspaces


def test_workspace_create_sends_the_attributes(dome: Dome, api: FakeAdminApi) -> None:
    dome.run("tenant", "create", "acme")
    result = dome.run(
        "workspace", "create", "eu-research", "--tenant", "acme", "--residency", "eu",
        "--max-classification", "confidential", "--classification-default", "internal",
        "--classification-floor", "public",
    )  # fmt: skip
    assert_exit(result, 0)
    assert sent(api)[2] == {
        "name": "eu-research",
        "tenant": "acme",
        "residency": "eu",
        "max_classification": "confidential",
        "classification_default": "internal",
        "classification_floor": "public",
    }
    assert result.stdout.splitlines()[1].split()[:6] == [
        "eu-research", "acme", "eu", "confidential", "internal", "public",
    ]  # fmt: skip


@pytest.mark.usefixtures("workspace")
@pytest.mark.parametrize(
    ("args", "body"),
    [
        (("--residency", "eu"), {"residency": "eu"}),
        (("--residency", ""), {"residency": ""}),
        (("--residency", "none"), {"residency": "none"}),  # a place name, not "clear"
        (("--max-classification", "internal"), {"max_classification": "internal"}),
        (("--classification-default", "none"), {"classification_default": None}),
        (("--classification-floor", "public"), {"classification_floor": "public"}),
    ],
)
def test_workspace_update_sends_only_what_is_given(
    dome: Dome, api: FakeAdminApi, args: tuple[str, ...], body: dict[str, object]
) -> None:
    result = dome.run("workspace", "update", "ws", *args, "-o", "json")
    assert_exit(result, 0)
    assert sent(api) == ("PATCH", "/admin/v1/workspaces/ws", body)
    record = json.loads(result.stdout)
    assert {key: record[key] for key in body} == body


@pytest.mark.usefixtures("workspace")
def test_workspace_show(dome: Dome) -> None:
    dome.run("workspace", "update", "ws", "--residency", "eu")
    result = dome.run("workspace", "show", "ws")
    assert_exit(result, 0)
    assert result.stdout.splitlines()[:6] == [
        "name                    ws",
        "tenant                  acme",
        "residency               eu",
        "max classification      restricted",
        "classification default  -",
        "classification floor    -",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to change"),
        (("--residency", "EU"), "Invalid value for '--residency'"),
        (("--residency", "eu west"), "Invalid value for '--residency'"),
        (("--max-classification", "none"), "Invalid value for '--max-classification'"),
        (("--classification-floor", "top"), "Invalid value for '--classification-floor'"),
    ],
)
def test_workspace_update_bad_arguments_send_nothing(
    dome: Dome, api: FakeAdminApi, args: tuple[str, ...], message: str
) -> None:
    result = dome.run("workspace", "update", "ws", *args)
    assert_exit(result, 2)
    assert message in result.stderr
    assert api.requests == []


def test_workspace_update_unknown_is_a_404_error(dome: Dome) -> None:
    result = dome.run("workspace", "update", "ghost", "--residency", "eu")
    assert_exit(result, 1)
    assert result.stderr == "error: no workspace named 'ghost'\n"


# models


def test_model_add_sends_region_tier_family(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(
        "model", "add", "sim", "--provider", "mock", "--model", "mock-1-20250101",
        "--region", "eu-west-1", "--tier", "cheap",
    )  # fmt: skip
    assert_exit(result, 0)
    body = sent(api)[2]
    assert (body["region"], body["tier"]) == ("eu-west-1", "cheap")
    assert "family" not in body
    lines = result.stdout.splitlines()
    assert "region             eu-west-1" in lines
    assert "tier               cheap" in lines
    assert "family             mock-1" in lines  # derived: the date suffix dropped


@pytest.mark.parametrize(
    ("args", "body"),
    [
        (("--region", "us-east-1"), {"region": "us-east-1"}),
        (
            ("--tier", "frontier", "--family", "sim-family"),
            {"tier": "frontier", "family": "sim-family"},
        ),
        (("--clear-family",), {"family": None}),
    ],
)
def test_model_update_sends_only_what_is_given(
    dome: Dome, api: FakeAdminApi, args: tuple[str, ...], body: dict[str, object]
) -> None:
    dome.run("model", "add", "sim", "--provider", "mock", "--family", "custom")

    result = dome.run("model", "update", "sim", *args, "-o", "json")

    assert_exit(result, 0)
    assert sent(api) == ("PATCH", "/admin/v1/models/sim", body)
    record = json.loads(result.stdout)
    assert record["effective_family"] == (body.get("family", "custom") or "sim")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to change"),
        (("--family", "x", "--clear-family"), "either --family or --clear-family"),
        (("--region", "EU_WEST"), "Invalid value for '--region'"),
        (("--tier", ""), "Invalid value for '--tier'"),
    ],
)
def test_model_update_bad_arguments_send_nothing(
    dome: Dome, api: FakeAdminApi, args: tuple[str, ...], message: str
) -> None:
    result = dome.run("model", "update", "sim", *args)
    assert_exit(result, 2)
    assert message in result.stderr
    assert api.requests == []


def test_model_update_api_rejection_is_an_error(dome: Dome) -> None:
    assert_exit(dome.run("model", "update", "ghost", "--tier", "cheap"), 1)
