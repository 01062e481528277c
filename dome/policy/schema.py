"""The shipped Cedar schema (schema.cedarschema, next to this module)."""

from __future__ import annotations

from importlib import resources


def schema_text() -> str:
    """The Cedar schema every policy, entity set and request is checked against."""
    return resources.files("dome.policy").joinpath("schema.cedarschema").read_text("utf-8")
