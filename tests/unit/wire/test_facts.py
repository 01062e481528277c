"""Request facts: what the broker reads from an agent's body, and the 400s."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dome.errors import InvalidRequestError
from dome.wire.anthropic.facts import messages_facts
from dome.wire.facts import parse_json_object
from dome.wire.openai.facts import chat_facts

USER = [{"role": "user", "content": "hi"}]


def test_openai_facts() -> None:
    facts = chat_facts(
        {
            "model": "m",
            "messages": USER,
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_completion_tokens": 9,
        }
    )
    assert (facts.model, facts.stream, facts.include_usage, facts.max_output_tokens) == (
        "m",
        True,
        True,
        9,
    )
    assert chat_facts({"model": "m", "messages": USER, "max_tokens": 5}).max_output_tokens == 5


def test_anthropic_facts() -> None:
    facts = messages_facts({"model": "m", "messages": USER, "max_tokens": 3})
    assert (facts.format, facts.operation, facts.stream, facts.max_output_tokens) == (
        "anthropic",
        "messages",
        False,
        3,
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"messages": USER}, "model: field required"),
        ({"model": "", "messages": USER}, "model: expected a non-empty string"),
        ({"model": 3, "messages": USER}, "model: expected a non-empty string"),
        ({"model": "m"}, "messages: field required"),
        ({"model": "m", "messages": []}, "messages: must not be empty"),
        ({"model": "m", "messages": USER, "stream": 1}, "stream: expected a boolean"),
        (
            {"model": "m", "messages": USER, "max_tokens": -1},
            "max_tokens: expected a non-negative integer",
        ),
        (
            {"model": "m", "messages": USER, "max_tokens": True},
            "max_tokens: expected a non-negative integer",
        ),
        (
            {"model": "m", "messages": USER, "stream_options": []},
            "stream_options: expected an object",
        ),
    ],
)
def test_openai_errors_name_the_field(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        chat_facts(body)


def test_anthropic_requires_max_tokens() -> None:
    with pytest.raises(InvalidRequestError, match="max_tokens: field required") as caught:
        messages_facts({"model": "m", "messages": USER})
    assert caught.value.param == "max_tokens"


@given(st.binary(max_size=200))
def test_any_bytes_either_parse_or_raise_the_request_error(raw: bytes) -> None:
    try:
        body = parse_json_object(raw)
    except InvalidRequestError:
        return
    for read in (chat_facts, messages_facts):
        with contextlib.suppress(InvalidRequestError):
            read(body)
