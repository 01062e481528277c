"""Replacing the model name keeps every other byte of the body."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dome.wire.json_splice import replace_top_level_string


def test_only_the_top_level_member_changes() -> None:
    body = b'{"x": {"model": "inner"}, "model" : "m\\"q", "z": ["]", "}"], "n": 1.50}'
    out = replace_top_level_string(body, "model", "new")
    assert out == b'{"x": {"model": "inner"}, "model" : "new", "z": ["]", "}"], "n": 1.50}'


def test_last_duplicate_wins_like_the_parsers() -> None:
    body = b'{"model":"a","model":"b"}'
    out = replace_top_level_string(body, "model", "c")
    assert out == b'{"model":"a","model":"c"}'
    assert orjson.loads(out)["model"] == "c"


def test_missing_member_is_an_error() -> None:
    with pytest.raises(ValueError, match="model"):
        replace_top_level_string(b'{"other": "x"}', "model", "y")


def test_escaped_key_is_matched_by_value() -> None:
    out = replace_top_level_string(b'{"mod\\u0065l": "a"}', "model", "b")
    assert orjson.loads(out) == {"model": "b"}


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(
    st.dictionaries(st.text(max_size=10), json_values, max_size=6),
    st.text(),
    st.text(),
    st.sampled_from([None, 1, 2]),
)
def test_round_trip_against_the_parser(
    members: dict[str, object], old: str, new: str, indent: int | None
) -> None:
    members = {**members, "model": old}
    body = json.dumps(members, indent=indent, ensure_ascii=bool(indent)).encode()
    out = replace_top_level_string(body, "model", new)
    assert json.loads(out) == {**members, "model": new}
    prefix_end = body.index(
        json.dumps(old, ensure_ascii=bool(indent)).encode(), body.rindex(b'"model"')
    )
    assert out[:prefix_end] == body[:prefix_end]
