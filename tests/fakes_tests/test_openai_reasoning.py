"""Reasoning on the fake OpenAI upstream: `reasoning_effort` usage and reasoner text."""

import json
from typing import Any, cast

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared import ReasoningEffort

from tests.fakes.answers import estimate_tokens
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.reasoning import EFFORT_REASONING_TOKENS
from tests.fakes_tests.sdk_calls import OPENAI_HELLO as HELLO
from tests.fakes_tests.sdk_calls import openai_stream

ECHO_TOKENS = estimate_tokens(len("echo: hello"))
THOUGHT = "thinking about: hello"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@pytest.mark.parametrize(
    ("effort", "reasoning_tokens"), [("low", 16), ("medium", 32), ("high", 64)]
)
def test_reasoning_effort_reports_reasoning_tokens(
    openai_client: openai.OpenAI, effort: ReasoningEffort, reasoning_tokens: int
) -> None:
    completion = openai_client.chat.completions.create(
        model="gpt-ok", messages=HELLO, reasoning_effort=effort, max_completion_tokens=500
    )

    usage = completion.usage
    assert usage is not None
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == reasoning_tokens
    assert usage.completion_tokens == ECHO_TOKENS + reasoning_tokens
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    message = completion.choices[0].message
    assert message.content == "echo: hello"
    assert (message.model_extra or {}).get("reasoning_content") is None


def test_every_accepted_effort_is_counted(openai_client: openai.OpenAI) -> None:
    for effort, tokens in EFFORT_REASONING_TOKENS.items():
        completion = openai_client.chat.completions.create(
            model="ok", messages=HELLO, reasoning_effort=cast("ReasoningEffort", effort)
        )
        assert completion.usage is not None
        assert completion.usage.completion_tokens == ECHO_TOKENS + tokens, effort


def test_without_effort_there_are_no_reasoning_tokens(openai_client: openai.OpenAI) -> None:
    completion = openai_client.chat.completions.create(model="ok", messages=HELLO)

    assert completion.usage is not None
    assert completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 0


def test_streamed_usage_counts_reasoning_tokens(openai_client: openai.OpenAI) -> None:
    chunks = openai_stream(
        openai_client, "ok", reasoning_effort="high", stream_options={"include_usage": True}
    )

    usage = chunks[-1].usage
    assert usage is not None
    assert usage.completion_tokens == ECHO_TOKENS + 64
    assert all(
        "reasoning_content" not in (c.choices[0].delta.model_extra or {}) for c in chunks[:-1]
    )


def test_unknown_effort_is_rejected(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(
            model="ok",
            messages=HELLO,
            reasoning_effort=cast("Any", "extreme"),
        )

    assert caught.value.param == "reasoning_effort"
    assert caught.value.code == "invalid_value"
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["message"].startswith(
        "Invalid value for 'reasoning_effort': 'extreme'. Supported values are: 'none', 'minimal'"
    )


def test_max_tokens_with_reasoning_is_rejected(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(
            model="ok", messages=HELLO, reasoning_effort="low", max_tokens=100
        )

    assert caught.value.param == "max_tokens"
    assert caught.value.code == "unsupported_parameter"
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["message"] == (
        "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead."
    )


def test_max_tokens_without_reasoning_is_accepted(openai_client: openai.OpenAI) -> None:
    completion = openai_client.chat.completions.create(model="ok", messages=HELLO, max_tokens=100)

    assert completion.choices[0].message.content == "echo: hello"


def test_reasoner_model_shows_reasoning_content(openai_client: openai.OpenAI) -> None:
    completion = openai_client.chat.completions.create(model="deepseek-reasoner", messages=HELLO)

    message = completion.choices[0].message
    assert (message.model_extra or {})["reasoning_content"] == THOUGHT
    assert message.content == "echo: hello"
    assert completion.usage is not None
    assert completion.usage.completion_tokens_details is not None
    reasoning_tokens = estimate_tokens(len(THOUGHT))
    assert completion.usage.completion_tokens_details.reasoning_tokens == reasoning_tokens
    assert completion.usage.completion_tokens == ECHO_TOKENS + reasoning_tokens


def test_reasoner_streams_reasoning_before_content(openai_client: openai.OpenAI) -> None:
    chunks = openai_stream(openai_client, "ok-reasoner")

    kinds: list[str] = []
    reasoning: list[str] = []
    content: list[str] = []
    for chunk in chunks:
        delta = chunk.choices[0].delta
        piece = (delta.model_extra or {}).get("reasoning_content")
        if isinstance(piece, str):
            kinds.append("reasoning")
            reasoning.append(piece)
        if delta.content:
            kinds.append("content")
            content.append(delta.content)
    assert "".join(reasoning) == THOUGHT
    assert "".join(content) == "echo: hello"
    assert len(reasoning) > 1
    assert kinds == sorted(kinds, key=lambda kind: kind != "reasoning")


def test_raw_reasoner_chunk_carries_reasoning_content(
    fake_openai: FakeOpenAI, http: httpx.Client
) -> None:
    fake_openai.reset()
    headers = {"authorization": f"Bearer {fake_openai.api_key}"}
    body = {"model": "vllm-reasoner", "messages": HELLO, "stream": True}
    response = http.post(f"{fake_openai.url}/v1/chat/completions", json=body, headers=headers)

    lines = [line.removeprefix("data: ") for line in response.text.split("\n") if line]
    delta = json.loads(lines[1])["choices"][0]["delta"]
    assert set(delta) == {"reasoning_content"}
    assert THOUGHT.startswith(delta["reasoning_content"])


def test_reasoner_tool_loop_accepts_reasoning_content_back(openai_client: openai.OpenAI) -> None:
    first = openai_client.chat.completions.create(
        model="ok-reasoner",
        messages=HELLO,
        tools=TOOLS,  # type: ignore[arg-type]
    )
    [call] = first.choices[0].message.tool_calls or []
    assert (first.choices[0].message.model_extra or {})["reasoning_content"] == THOUGHT
    messages: list[ChatCompletionMessageParam] = [
        *HELLO,
        first.choices[0].message.model_dump(exclude_none=True),  # type: ignore[list-item]
        {"role": "tool", "tool_call_id": call.id, "content": "18C"},
    ]

    second = openai_client.chat.completions.create(
        model="ok-reasoner",
        messages=messages,
        tools=TOOLS,  # type: ignore[arg-type]
    )

    assert second.choices[0].message.content == "echo: 18C"
    assert (second.choices[0].message.model_extra or {})["reasoning_content"] == (
        "thinking about: 18C"
    )


def test_models_list_names_a_reasoner(openai_client: openai.OpenAI) -> None:
    ids = [model.id for model in openai_client.models.list()]

    assert "ok-reasoner" in ids
