"""Region pinning: which pin applies and which members lie inside it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dome.errors import UpstreamError
from dome.routing import (
    RegionPinError,
    effective_pin,
    in_region,
    members_in_region,
    region_pin_error,
)


@pytest.mark.parametrize(
    ("tenant", "workspace", "expected"),
    [
        (None, None, None),
        ("eu", None, "eu"),
        (None, "us", "us"),
        ("eu", "us", "us"),  # the workspace overrides the tenant
        ("eu", "", "eu"),
        ("", "", None),
    ],
)
def test_effective_pin(tenant: str | None, workspace: str | None, expected: str | None) -> None:
    assert effective_pin(tenant, workspace) == expected


@pytest.mark.parametrize(
    ("model_region", "pin", "expected"),
    [
        ("eu", "eu", True),
        ("eu-west-1", "eu", True),
        ("EU-West-1", "eu", True),
        ("eu-west-1", "EU", True),
        ("eu-west-1", "eu-west-1", True),
        ("eu-west-1", "eu-west", True),
        ("europe-west4", "eu", False),
        ("eus", "eu", False),
        ("us-east-1", "eu", False),
        ("eu", "eu-west-1", False),  # a broader label may lie outside the pin
        ("", "eu", False),  # an unlabelled entry serves no pin
        ("eu-west-1", "", False),
    ],
)
def test_in_region(model_region: str, pin: str, expected: bool) -> None:
    assert in_region(model_region, pin) is expected


def test_members_in_region_keeps_order_and_drops_unlabelled() -> None:
    regions = {"a": "eu-west-1", "b": "us-east-1", "c": "eu", "d": ""}
    assert members_in_region(["c", "b", "a", "d", "e"], regions, "eu") == ("c", "a")
    assert members_in_region(["c", "b"], regions, None) == ("c", "b")
    assert members_in_region(["b"], regions, "eu") == ()


def test_region_pin_error_names_the_pin() -> None:
    error = region_pin_error("eu", "cheap-reasoning")
    assert isinstance(error, RegionPinError)
    assert isinstance(error, UpstreamError)
    assert error.pin == "eu"
    assert "pinned to region eu" in error.message
    assert "never served elsewhere" in error.message


regions = st.text(alphabet="eu-s1", max_size=8)


@given(regions, regions)
def test_a_pinned_call_never_leaves_its_region(model_region: str, pin: str) -> None:
    if in_region(model_region, pin):
        region, wanted = model_region.lower(), pin.lower()
        assert region == wanted or region.startswith(wanted + "-")
        assert pin
        assert model_region
