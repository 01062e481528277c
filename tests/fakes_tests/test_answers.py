"""The fakes' pure parts: behaviour names, planned answers, fragments, vectors."""

import struct

import pytest

from tests.fakes.answers import (
    Prompt,
    ToolSpec,
    arguments_from_schema,
    embedding_vector,
    estimate_tokens,
    plan_answer,
    split_fragments,
)
from tests.fakes.behaviour import (
    Behaviour,
    Failure,
    behaviour_for,
    failure_for,
    is_parallel,
)
from tests.fakes.delivery import partial_count
from tests.fakes.payload import count_text_chars

WEATHER = ToolSpec(
    "get_weather",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)
CLOCK = ToolSpec("get_time", {"type": "object"})


@pytest.mark.parametrize(
    ("model", "behaviour"),
    [
        ("ok", Behaviour.OK),
        ("gpt-4.1", Behaviour.OK),
        ("claude-slow-parallel", Behaviour.SLOW),
        ("x-error-429", Behaviour.ERROR_429),
        ("error-529", Behaviour.ERROR_529),
        ("stream-cut", Behaviour.STREAM_CUT),
        ("stream-truncated-clean", Behaviour.STREAM_TRUNCATED_CLEAN),
        ("bad-json", Behaviour.BAD_JSON),
    ],
)
def test_behaviour_is_chosen_by_substring(model: str, behaviour: Behaviour) -> None:
    assert behaviour_for(model) is behaviour


def test_only_error_behaviours_fail_up_front() -> None:
    failing = {b for b in Behaviour if failure_for(b) is not None}

    assert failing == {
        Behaviour.ERROR_400,
        Behaviour.ERROR_429,
        Behaviour.ERROR_500,
        Behaviour.ERROR_529,
    }
    assert failure_for(Behaviour.ERROR_529) is Failure.OVERLOADED


def test_parallel_is_a_modifier() -> None:
    assert is_parallel("slow-parallel")
    assert not is_parallel("ok")


def test_token_estimate_is_a_quarter_of_the_characters_plus_one() -> None:
    assert [estimate_tokens(n) for n in (0, 3, 4, 11)] == [1, 1, 2, 3]
    assert count_text_chars({"role": "user", "content": ["ab", {"text": "cde"}, 7]}) == 9


def test_text_answer_when_no_tools() -> None:
    prompt = Prompt("hi", ends_with_tool_result=False, tools=(), text_chars=10)

    answer = plan_answer(prompt, parallel=False, call_id_prefix="c")

    assert (answer.text, answer.tool_calls) == ("echo: hi", ())
    assert (answer.input_tokens, answer.output_tokens) == (3, 3)


def test_tool_result_ends_the_tool_loop() -> None:
    prompt = Prompt("18C", ends_with_tool_result=True, tools=(WEATHER,), text_chars=3)

    assert plan_answer(prompt, parallel=True, call_id_prefix="c").text == "echo: 18C"


@pytest.mark.parametrize(
    ("tools", "parallel", "names"),
    [
        ((WEATHER, CLOCK), False, ["get_weather"]),
        ((WEATHER, CLOCK), True, ["get_weather", "get_time"]),
        ((WEATHER,), True, ["get_weather", "get_weather"]),
    ],
)
def test_tool_calls(tools: tuple[ToolSpec, ...], *, parallel: bool, names: list[str]) -> None:
    prompt = Prompt("hi", ends_with_tool_result=False, tools=tools, text_chars=2)

    answer = plan_answer(prompt, parallel=parallel, call_id_prefix="call_")

    assert [call.name for call in answer.tool_calls] == names
    assert [call.call_id for call in answer.tool_calls] == [f"call_{i}" for i in range(len(names))]
    assert answer.tool_calls[0].arguments == {"city": "example"}


def test_arguments_cover_required_properties_only() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": ["integer", "null"]},
            "flag": {"type": "boolean"},
            "tags": {"type": "array"},
            "mode": {"enum": ["fast", "slow"]},
            "inner": {"type": "object", "properties": {"x": {}}, "required": ["x"]},
            "skipped": {"type": "string"},
        },
        "required": ["n", "flag", "tags", "mode", "inner", "undeclared"],
    }

    assert arguments_from_schema(schema) == {
        "n": 1,
        "flag": True,
        "tags": [],
        "mode": "fast",
        "inner": {"x": "example"},
        "undeclared": "example",
    }


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("", []),
        ("ab", ["a", "b"]),
        ("abcdefg", ["abc", "def", "g"]),
        ("{}", ["{", "}"]),
    ],
)
def test_split_fragments(text: str, pieces: list[str]) -> None:
    assert split_fragments(text) == pieces


def test_partial_streams_send_the_first_half() -> None:
    assert [partial_count(n) for n in (1, 2, 5, 9)] == [1, 1, 2, 4]


def test_embedding_vectors_are_deterministic_and_float32_exact() -> None:
    vector = embedding_vector("hello", 40)
    packed = struct.pack("<40f", *vector)

    assert vector == embedding_vector("hello", 40)
    assert vector != embedding_vector("hello!", 40)
    assert list(struct.unpack("<40f", packed)) == vector
    assert all(-1 <= value < 1 for value in vector)
