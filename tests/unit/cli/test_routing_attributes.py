"""Region pins (`dome tenant set`, `dome workspace set|update|create --region`) and model
prices (`--price-input`, `--price-output`): what is sent, printed, and refused."""

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


# region pins


@pytest.mark.usefixtures("workspace")
def test_tenant_set_region(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run("tenant", "set", "acme", "--region", "eu")

    assert_exit(result, 0)
    assert sent(api) == ("PATCH", "/admin/v1/tenants/acme", {"region": "eu"})
    assert result.stdout.splitlines() == [
        "NAME  REGION  CREATED",
        "acme  eu      2026-05-09 07:35:25",
    ]
    assert dome.run("tenant", "list").stdout.splitlines()[1].split()[:2] == ["acme", "eu"]


@pytest.mark.usefixtures("workspace")
def test_tenant_set_region_none_clears_it(dome: Dome, api: FakeAdminApi) -> None:
    dome.run("tenant", "set", "acme", "--region", "eu")

    result = dome.run("tenant", "set", "acme", "--region", "none", "-o", "json")

    assert_exit(result, 0)
    assert sent(api)[2] == {"region": None}
    assert json.loads(result.stdout)["region"] is None


def test_tenant_create_with_a_region(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run("tenant", "create", "acme", "--region", "us-east", "-o", "json")

    assert_exit(result, 0)
    assert sent(api)[2] == {"name": "acme", "region": "us-east"}
    assert json.loads(result.stdout)["region"] == "us-east"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tenant", "set", "acme"), "nothing to change: give --region"),
        (("tenant", "set", "acme", "--region", "EU"), "Invalid value for '--region'"),
        (("tenant", "set", "acme", "--region", ""), "Invalid value for '--region'"),
        (("tenant", "set", "acme", "--region", "x" * 33), "Invalid value for '--region'"),
        (("tenant", "create", "acme", "--region", "e u"), "Invalid value for '--region'"),
        (("workspace", "set", "ws", "--region", "Eu"), "Invalid value for '--region'"),
        (("workspace", "update", "ws", "--region", "eu/west"), "Invalid value for '--region'"),
        (("workspace", "set", "ws"), "nothing to change"),
    ],
)
def test_bad_region_pins_are_usage_errors_and_send_nothing(
    dome: Dome, api: FakeAdminApi, args: tuple[str, ...], message: str
) -> None:
    result = dome.run(*args)

    assert_exit(result, 2)
    assert message in result.stderr
    assert api.requests == []


def test_tenant_set_unknown_is_a_404_error(dome: Dome) -> None:
    result = dome.run("tenant", "set", "ghost", "--region", "eu")
    assert_exit(result, 1)
    assert result.stderr == "error: no tenant named 'ghost'\n"


@pytest.mark.usefixtures("workspace")
@pytest.mark.parametrize("command", ["set", "update"])
def test_workspace_set_and_update_pin_the_region(
    dome: Dome, api: FakeAdminApi, command: str
) -> None:
    result = dome.run("workspace", command, "ws", "--region", "eu")

    assert_exit(result, 0)
    assert sent(api) == ("PATCH", "/admin/v1/workspaces/ws", {"region": "eu"})
    assert "region                  eu" in result.stdout.splitlines()
    cleared = dome.run("workspace", command, "ws", "--region", "none", "-o", "json")
    assert sent(api)[2] == {"region": None}
    assert json.loads(cleared.stdout)["region"] is None


@pytest.mark.usefixtures("workspace")
def test_workspace_set_takes_the_other_attributes_too(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run("workspace", "set", "ws", "--residency", "eu", "--region", "eu-2")

    assert_exit(result, 0)
    assert sent(api)[2] == {"residency": "eu", "region": "eu-2"}


def test_workspace_create_with_a_region(dome: Dome, api: FakeAdminApi) -> None:
    dome.run("tenant", "create", "acme")

    result = dome.run("workspace", "create", "ws", "--tenant", "acme", "--region", "eu")

    assert_exit(result, 0)
    assert sent(api)[2] == {"name": "ws", "tenant": "acme", "region": "eu"}
    assert result.stdout.splitlines()[1].split()[6] == "eu"


# prices


def test_model_add_sends_prices_as_decimal_strings(dome: Dome, api: FakeAdminApi) -> None:
    result = dome.run(
        "model", "add", "sim", "--provider", "mock", "--price-input", "3.00",
        "--price-output", "15.00",
    )  # fmt: skip

    assert_exit(result, 0)
    body = sent(api)[2]
    assert (body["input_price"], body["output_price"]) == ("3.00", "15.00")
    lines = result.stdout.splitlines()
    assert "input price        3.00" in lines
    assert "output price       15.00" in lines
    listed = dome.run("model", "list").stdout.splitlines()[1].split()
    assert listed[10:12] == ["3.00", "15.00"]


def test_model_add_without_prices_sends_none(dome: Dome, api: FakeAdminApi) -> None:
    assert_exit(dome.run("model", "add", "sim", "--provider", "mock"), 0)
    assert "input_price" not in sent(api)[2]
    assert "output_price" not in sent(api)[2]


@pytest.mark.parametrize(
    ("args", "body"),
    [
        (("--price-input", "0.25"), {"input_price": "0.25"}),
        (("--price-output", "none"), {"output_price": None}),
        (
            ("--price-input", "0", "--price-output", "1.5"),
            {"input_price": "0", "output_price": "1.5"},
        ),
    ],
)
def test_model_update_prices(
    dome: Dome, api: FakeAdminApi, args: tuple[str, ...], body: dict[str, object]
) -> None:
    dome.run("model", "add", "sim", "--provider", "mock", "--price-output", "2")

    result = dome.run("model", "update", "sim", *args, "-o", "json")

    assert_exit(result, 0)
    assert sent(api) == ("PATCH", "/admin/v1/models/sim", body)
    record = json.loads(result.stdout)
    assert {key: record[key] for key in body} == body


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "sim", "--provider", "mock", "--price-input", "cheap"), "'--price-input'"),
        (("add", "sim", "--provider", "mock", "--price-output", "-1"), "'--price-output'"),
        (("add", "sim", "--provider", "mock", "--price-input", "NaN"), "is not a price"),
        (("update", "sim", "--price-input", "Infinity"), "'--price-input'"),
        (("update", "sim", "--price-output", "2000000"), "'--price-output'"),
    ],
)
def test_bad_prices_are_usage_errors_and_send_nothing(
    dome: Dome, api: FakeAdminApi, args: tuple[str, ...], message: str
) -> None:
    result = dome.run("model", *args)

    assert_exit(result, 2)
    assert message in result.stderr
    assert api.requests == []
