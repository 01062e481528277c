"""Match-when: parsing (golden cases and errors), evaluation, specificity, and properties."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dome.errors import ConfigError
from dome.routing import (
    ATTRIBUTES,
    MatchWhen,
    RequestAttributes,
    describe_match,
    describe_mismatch,
    is_glob,
    matches,
    parse_match_when,
    specificity,
)

HAIKU = RequestAttributes(
    model="claude-haiku-4-5",
    format="anthropic",
    stream=True,
    classification="internal",
    agent="planner",
    workspace="research",
    tenant="acme",
    region="eu-west-1",
)


def test_attributes_are_the_eight_of_the_issue() -> None:
    assert ATTRIBUTES == (
        "request.model",
        "request.format",
        "request.stream",
        "request.classification",
        "agent.name",
        "agent.workspace",
        "agent.tenant",
        "request.region",
    )


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ({}, {}),
        ("{}", {}),
        (b'{"request.model": ["a"]}', {"request.model": ["a"]}),
        (
            '{"request.model":["claude-haiku-4-5","gpt-5-mini"]}',
            {"request.model": ["claude-haiku-4-5", "gpt-5-mini"]},
        ),
        ({"agent.tenant": "acme"}, {"agent.tenant": ["acme"]}),
        ({"request.stream": True}, {"request.stream": ["true"]}),
        ({"request.stream": [False, "TRUE"]}, {"request.stream": ["false", "true"]}),
        ({"request.model": ["a", "b", "a"]}, {"request.model": ["a", "b"]}),
        # Canonical key order, whatever the operator wrote.
        (
            {"request.region": ["eu-*"], "agent.name": ["x"], "request.model": ["m"]},
            {"request.model": ["m"], "agent.name": ["x"], "request.region": ["eu-*"]},
        ),
    ],
)
def test_parse_golden(given_value: object, expected: dict[str, list[str]]) -> None:
    parsed = parse_match_when(given_value)
    assert parsed.to_json() == expected
    assert list(parsed.to_json()) == list(expected)
    assert parse_match_when(parsed.to_json()) == parsed


@pytest.mark.parametrize(
    ("given_value", "message", "param"),
    [
        (
            {"request.modle": ["x"]},
            (
                'match-when: unknown attribute "request.modle"; known: request.model, '
                "request.format, request.stream, request.classification, agent.name, "
                "agent.workspace, agent.tenant, request.region"
            ),
            "request.modle",
        ),
        (
            {"request.model": []},
            "match-when: request.model needs a non-empty list",
            "request.model",
        ),
        ({"request.model": [""]}, "match-when: request.model values must be non-empty", None),
        ({"request.model": [3]}, "match-when: request.model values must be non-empty", None),
        ({"request.model": 3}, "match-when: request.model needs a non-empty list", None),
        ({"request.model": None}, "match-when: request.model needs a non-empty list", None),
        ({"request.stream": ["yes"]}, "match-when: request.stream values must be true or", None),
        ({"request.stream": ["t*"]}, "match-when: request.stream values must be true or", None),
        ({"agent.name": True}, "match-when: agent.name values must be non-empty strings", None),
        ({1: ["x"]}, "match-when: unknown attribute 1;", None),
        ("[1]", "match-when: expected a JSON object of attribute -> values, got a list", None),
        (None, "match-when: expected a JSON object of attribute -> values, got null", None),
        ("{not json", "match-when: not valid JSON", None),
    ],
)
def test_parse_errors(given_value: object, message: str, param: str | None) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_match_when(given_value)
    assert caught.value.message.startswith(message)
    if param is not None:
        assert caught.value.param == param


def test_constructor_checks_invariants_and_freezes() -> None:
    source = {"request.model": ("a",)}
    match = MatchWhen(source)
    source["agent.name"] = ("b",)
    assert match.to_json() == {"request.model": ["a"]}
    with pytest.raises(TypeError):
        match.conditions["agent.name"] = ("b",)  # type: ignore[index]
    with pytest.raises(ConfigError, match="unknown attribute"):
        MatchWhen({"nope": ("a",)})
    with pytest.raises(ConfigError, match="non-empty list"):
        MatchWhen({"request.model": ()})
    with pytest.raises(ConfigError, match="non-empty list"):
        MatchWhen({"request.model": ["a"]})  # type: ignore[dict-item]


def test_equal_predicates_hash_alike() -> None:
    one = parse_match_when({"agent.name": ["x"], "request.model": ["m"]})
    two = parse_match_when({"request.model": "m", "agent.name": "x"})
    assert one == two
    assert hash(one) == hash(two)
    assert len({one, two}) == 1


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ({}, True),
        ({"request.model": ["claude-haiku-*"]}, True),
        ({"request.model": ["claude-haiku-4-5", "gpt-5-mini"]}, True),
        ({"request.model": ["Claude-Haiku-*"]}, False),  # case-sensitive
        ({"request.model": ["gpt-*"]}, False),
        ({"request.model": ["claude-haiku-*"], "agent.tenant": ["globex"]}, False),
        ({"request.stream": [True]}, True),
        ({"request.stream": [False]}, False),
        ({"request.format": ["openai"]}, False),
        ({"request.classification": ["internal", "public"]}, True),
        ({"agent.name": ["plan?er"]}, True),
        ({"agent.workspace": ["[rs]esearch"]}, True),
        ({"agent.tenant": ["acme"], "request.region": ["eu-*"]}, True),
        ({"request.region": ["us-*"]}, False),
    ],
)
def test_matches_golden(predicate: dict[str, object], expected: bool) -> None:
    assert matches(parse_match_when(predicate), HAIKU) is expected


def test_missing_values_match_only_a_star() -> None:
    bare = RequestAttributes(model="m", format="openai", stream=False)
    assert bare.value("agent.workspace") == ""
    assert matches(parse_match_when({"agent.workspace": ["*"]}), bare)
    assert not matches(parse_match_when({"agent.workspace": ["?*"]}), bare)


def test_value_of_unknown_attribute_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        HAIKU.value("request.modle")


def test_describe() -> None:
    match = parse_match_when(
        {"request.model": ["gpt-*", "claude-haiku-*"], "agent.tenant": ["globex", "initech"]}
    )
    assert describe_match(match, HAIKU) == (
        "request.model matches claude-haiku-*",
        'agent.tenant "acme" matches none of globex, initech',
    )
    assert describe_mismatch(match, HAIKU) == (
        'agent.tenant "acme" matches none of globex, initech',
    )
    assert describe_match(parse_match_when({}), HAIKU) == ()


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ({}, (0, 0)),
        ({"request.model": ["claude-haiku-4-5"]}, (1, 0)),
        ({"request.model": ["claude-haiku-*"]}, (1, -1)),
        ({"request.model": ["a", "b", "c"]}, (1, 0)),
        ({"request.model": ["a*", "b?"], "agent.name": ["x"]}, (2, -2)),
        ({"request.stream": [True]}, (1, 0)),
    ],
)
def test_specificity_golden(predicate: dict[str, object], expected: tuple[int, int]) -> None:
    assert specificity(parse_match_when(predicate)) == expected


def test_specificity_order() -> None:
    everything = specificity(parse_match_when({}))
    glob = specificity(parse_match_when({"request.model": ["claude-haiku-*"]}))
    exact = specificity(parse_match_when({"request.model": ["claude-haiku-4-5"]}))
    two_globs = specificity(parse_match_when({"request.model": ["c*"], "agent.name": ["p*"]}))
    assert everything < glob < exact < two_globs


def test_is_glob() -> None:
    assert is_glob("claude-*")
    assert is_glob("gpt-?")
    assert is_glob("[ab]")
    assert not is_glob("claude-haiku-4-5")


# Properties ---------------------------------------------------------------------------

_ALPHABET = "ab-*?"
names = st.text(alphabet="ab-", max_size=5)
patterns = st.text(alphabet=_ALPHABET, min_size=1, max_size=5)
string_attributes = [a for a in ATTRIBUTES if a != "request.stream"]

requests = st.builds(
    RequestAttributes,
    model=names,
    format=st.sampled_from(["openai", "anthropic"]),
    stream=st.booleans(),
    classification=names,
    agent=names,
    workspace=names,
    tenant=names,
    region=names,
)


@st.composite
def predicates(draw: st.DrawFn) -> MatchWhen:
    keys = draw(st.lists(st.sampled_from(ATTRIBUTES), unique=True, max_size=4))
    conditions: dict[str, object] = {}
    for key in keys:
        if key == "request.stream":
            conditions[key] = draw(st.lists(st.booleans(), min_size=1, max_size=2))
        else:
            conditions[key] = draw(st.lists(patterns, min_size=1, max_size=3))
    return parse_match_when(conditions)


@given(requests)
def test_empty_predicate_matches_everything(attrs: RequestAttributes) -> None:
    assert matches(parse_match_when({}), attrs)


@settings(max_examples=300)
@given(predicates(), requests, st.sampled_from(ATTRIBUTES), st.lists(patterns, min_size=1))
def test_adding_a_key_never_widens(
    match: MatchWhen, attrs: RequestAttributes, key: str, extra: list[str]
) -> None:
    values: list[object] = [True] if key == "request.stream" else list(extra)
    widened = dict(match.to_json())
    if key in widened:
        return  # replacing a key is not adding one
    narrower = parse_match_when({**widened, key: values})
    if not matches(match, attrs):
        assert not matches(narrower, attrs)
    assert specificity(narrower) > specificity(match)


@settings(max_examples=300)
@given(st.sampled_from(string_attributes), st.lists(patterns, min_size=1, max_size=3), requests)
def test_glob_semantics_are_fnmatchcase(
    key: str, values: list[str], attrs: RequestAttributes
) -> None:
    expected = any(fnmatchcase(attrs.value(key), value) for value in values)
    assert matches(parse_match_when({key: values}), attrs) is expected


@given(predicates(), requests)
def test_all_keys_must_hold(match: MatchWhen, attrs: RequestAttributes) -> None:
    each = [matches(MatchWhen({key: values}), attrs) for key, values in match.conditions.items()]
    assert matches(match, attrs) is all(each)
    assert (describe_mismatch(match, attrs) == ()) is matches(match, attrs)


@given(predicates())
def test_json_round_trip(match: MatchWhen) -> None:
    assert parse_match_when(json.dumps(match.to_json())) == match
