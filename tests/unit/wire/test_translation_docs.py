"""docs/translation.md names every field the translators carry, accept or refuse."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from dome.wire.anthropic import defaults as anthropic_defaults
from dome.wire.anthropic import request_fields as anthropic_fields
from dome.wire.canonical import EFFORT_BUDGETS
from dome.wire.openai import fields as openai_fields

DOC = (Path(__file__).parents[3] / "docs" / "translation.md").read_text()


def _section(title: str) -> str:
    start = DOC.index(title)
    end = DOC.find("\n### ", start + len(title))
    return DOC[start : end if end != -1 else None]


@pytest.mark.parametrize(
    ("title", "names"),
    [
        (
            "### OpenAI request fields",
            [
                *openai_fields.CARRIED_FIELDS,
                *openai_fields.IGNORED_FIELDS,
                *openai_fields.UNSUPPORTED_FIELDS,
            ],
        ),
        (
            "### Anthropic request fields",
            [
                *anthropic_fields.CARRIED_FIELDS,
                *anthropic_fields.ACCEPTED_NOT_CARRIED,
                *anthropic_fields.UNSUPPORTED_FIELDS,
                *anthropic_fields.UNSUPPORTED_BLOCK_TYPES,
                *anthropic_fields.ACCEPTED_NESTED_FIELDS,
            ],
        ),
    ],
)
def test_every_field_is_documented(title: str, names: Iterable[str]) -> None:
    section = _section(title)
    missing = sorted(name for name in names if f"`{name}`" not in section)
    assert not missing, f"{title} does not name {missing}"


def test_effort_budgets_are_documented() -> None:
    section = _section("### Reasoning effort and thinking budget")
    for effort, budget in EFFORT_BUDGETS.items():
        assert f"| `{effort}` | {budget} |" in section


@pytest.mark.parametrize(
    "model",
    [
        "claude-3-haiku-20240307",
        "claude-3-5-sonnet-20241022",
        "claude-3-7-sonnet-20250219",
        "claude-sonnet-4-6",
        "claude-2.1",
    ],
)
def test_default_max_tokens_table_matches(model: str) -> None:
    section = _section("### Default `max_tokens` toward Anthropic")
    rows = {
        "claude-3-haiku-20240307": "`claude-3-haiku`",
        "claude-3-5-sonnet-20241022": "`claude-3-5-*`",
        "claude-3-7-sonnet-20250219": "`claude-3-7-*`",
        "claude-sonnet-4-6": "generation 4 and later",
        "claude-2.1": "anything else",
    }
    line = next(line for line in section.splitlines() if rows[model] in line)
    assert line.endswith(f"| {anthropic_defaults.default_max_tokens(model)} |")
