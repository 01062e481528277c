"""Classification: declared label, defaults, floors, and the errors for unknown labels."""

from __future__ import annotations

import pytest

from dome.errors import ConfigError, InvalidRequestError
from dome.policy import LEVELS, Classification, parse_label, resolve_classification


def test_levels_order_the_labels() -> None:
    assert list(LEVELS.items()) == [
        ("public", 0),
        ("internal", 1),
        ("confidential", 2),
        ("restricted", 3),
    ]


def test_declared_label_wins_in_any_case() -> None:
    result = resolve_classification(
        " Confidential ", agent_default="public", workspace_default="restricted"
    )
    assert result == Classification("confidential", 2, floor_applied=False)


def test_without_a_declaration_the_agent_default_then_the_workspace_default_apply() -> None:
    assert resolve_classification(None, agent_default="public").label == "public"
    assert (
        resolve_classification(None, agent_default="public", workspace_default="restricted").label
        == "public"
    )
    assert resolve_classification(None, workspace_default="Restricted").label == "restricted"
    assert resolve_classification(None) == Classification("internal", 1)


def test_the_higher_floor_raises_the_label_and_says_so() -> None:
    result = resolve_classification(
        "public", agent_floor="internal", workspace_floor="confidential"
    )
    assert result == Classification("confidential", 2, floor_applied=True)
    result = resolve_classification(None, agent_default="public", agent_floor="restricted")
    assert result == Classification("restricted", 3, floor_applied=True)


def test_a_label_at_or_above_the_floor_is_kept() -> None:
    result = resolve_classification("restricted", workspace_floor="confidential")
    assert result == Classification("restricted", 3, floor_applied=False)
    result = resolve_classification("internal", agent_floor="internal")
    assert not result.floor_applied


@pytest.mark.parametrize("declared", ["secret", "", "top-secret", "3"])
def test_an_unknown_declared_label_is_a_400_naming_the_header_and_the_valid_labels(
    declared: str,
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        resolve_classification(declared)
    assert caught.value.param == "X-Dome-Classification"
    assert "public, internal, confidential, restricted" in caught.value.message


def test_parse_label_normalizes_and_rejects_unknown_config_labels() -> None:
    assert parse_label("PUBLIC") == "public"
    with pytest.raises(ConfigError, match="unknown classification 'secret'"):
        parse_label("secret")
    with pytest.raises(ConfigError):
        resolve_classification(None, workspace_floor="secret")
