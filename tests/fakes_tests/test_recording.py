"""Reading what a fake received: the last request, per path, and its JSON body."""

import anthropic
import openai
import pytest

from tests.fakes.answers import Answer, Prompt, echo_text, with_reasoning
from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.reasoning import is_signed, sign_thinking
from tests.fakes.upstream import NoRequestError
from tests.fakes_tests.sdk_calls import ANTHROPIC_HELLO, OPENAI_HELLO


def test_last_json_is_the_body_that_arrived(
    fake_openai: FakeOpenAI, openai_client: openai.OpenAI
) -> None:
    openai_client.chat.completions.create(model="ok", messages=OPENAI_HELLO, temperature=0.5)

    assert fake_openai.last_json() == {
        "model": "ok",
        "messages": OPENAI_HELLO,
        "temperature": 0.5,
    }


def test_last_request_to_a_path_skips_later_requests_elsewhere(
    fake_anthropic: FakeAnthropic, anthropic_client: anthropic.Anthropic
) -> None:
    anthropic_client.messages.create(model="ok", max_tokens=7, messages=ANTHROPIC_HELLO)
    anthropic_client.messages.count_tokens(model="ok", messages=ANTHROPIC_HELLO)
    anthropic_client.models.list()

    assert fake_anthropic.last_request.path == "/v1/models"
    assert fake_anthropic.last_json("/v1/messages")["max_tokens"] == 7
    assert "max_tokens" not in fake_anthropic.last_json("/v1/messages/count_tokens")
    assert fake_anthropic.last_request_to("/v1/messages").method == "POST"


def test_nothing_recorded_is_a_clear_error(
    fake_openai: FakeOpenAI, openai_client: openai.OpenAI
) -> None:
    with pytest.raises(NoRequestError, match=r"FakeOpenAI has received no request$"):
        _ = fake_openai.last_request

    openai_client.models.list()

    with pytest.raises(NoRequestError, match="no request for /v1/chat/completions"):
        fake_openai.last_json("/v1/chat/completions")


def test_echo_text_adds_image_notes_only_when_there_are_images() -> None:
    plain = Prompt("hi", ends_with_tool_result=False, tools=(), text_chars=2)
    pictured = Prompt(
        "hi",
        ends_with_tool_result=False,
        tools=(),
        text_chars=2,
        image_notes=("[image image/png 3 bytes]", "[image url https://x.test/a.png]"),
    )

    assert echo_text(plain) == "echo: hi"
    assert echo_text(pictured) == (
        "echo: hi [image image/png 3 bytes] [image url https://x.test/a.png]"
    )


def test_with_reasoning_counts_into_output_tokens() -> None:
    answer = Answer("echo: hi", (), input_tokens=3, output_tokens=5)

    shown = with_reasoning(answer, "thinking about: hi")
    counted = with_reasoning(answer, None, 32)

    assert (shown.reasoning, shown.reasoning_tokens, shown.output_tokens) == (
        "thinking about: hi",
        5,
        10,
    )
    assert (counted.reasoning, counted.reasoning_tokens, counted.output_tokens) == (None, 32, 37)


def test_signatures_are_deterministic_and_bound_to_the_text() -> None:
    assert sign_thinking("a") == sign_thinking("a")
    assert sign_thinking("a") != sign_thinking("b")
    assert is_signed("a", sign_thinking("a"))
    assert not is_signed("b", sign_thinking("a"))
