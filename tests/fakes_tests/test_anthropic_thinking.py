"""Extended thinking on the fake Anthropic upstream, seen through the anthropic SDK."""

import json
from typing import Any, cast

import anthropic
import httpx
import pytest
from anthropic.types import MessageParam, ToolParam

from tests.fakes.answers import estimate_tokens
from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.reasoning import is_signed, sign_thinking
from tests.fakes_tests.sdk_calls import ANTHROPIC_HELLO as HELLO
from tests.fakes_tests.sdk_calls import ANTHROPIC_VERSION as VERSION
from tests.fakes_tests.sdk_calls import THINKING_MAX_TOKENS, THINKING_ON

TOOLS: list[ToolParam] = [
    {
        "name": "get_weather",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
]
THOUGHT = "thinking about: hello"


def _think(client: anthropic.Anthropic, messages: list[MessageParam], **extra: Any) -> Any:
    return client.messages.create(
        model="ok",
        max_tokens=THINKING_MAX_TOKENS,
        thinking=THINKING_ON,
        messages=messages,
        **extra,
    )


def _rejection(client: anthropic.Anthropic, messages: list[MessageParam], **extra: Any) -> str:
    with pytest.raises(anthropic.BadRequestError) as caught:
        _think(client, messages, **extra)
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["error"]["type"] == "invalid_request_error"
    return str(body["error"]["message"])


def _tool_loop(first_content: list[Any], tool_use_id: str) -> list[MessageParam]:
    return [
        *HELLO,
        {"role": "assistant", "content": first_content},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": tool_use_id, "content": "18C"}],
        },
    ]


def test_thinking_comes_first_with_a_signature(anthropic_client: anthropic.Anthropic) -> None:
    message = _think(anthropic_client, HELLO)

    assert [block.type for block in message.content] == ["thinking", "text"]
    thinking, text = message.content
    assert thinking.thinking == THOUGHT
    assert thinking.signature == sign_thinking(THOUGHT)
    assert text.text == "echo: hello"
    assert message.stop_reason == "end_turn"


def test_output_tokens_include_the_thinking(anthropic_client: anthropic.Anthropic) -> None:
    message = _think(anthropic_client, HELLO)

    expected = estimate_tokens(len("echo: hello")) + estimate_tokens(len(THOUGHT))
    assert message.usage.output_tokens == expected


def test_without_thinking_there_is_no_thinking_block(
    anthropic_client: anthropic.Anthropic,
) -> None:
    message = anthropic_client.messages.create(
        model="ok", max_tokens=THINKING_MAX_TOKENS, messages=HELLO
    )

    assert [block.type for block in message.content] == ["text"]


def test_adaptive_thinking_also_thinks(anthropic_client: anthropic.Anthropic) -> None:
    message = anthropic_client.messages.create(
        model="ok", max_tokens=64, thinking={"type": "adaptive"}, messages=HELLO
    )

    assert [block.type for block in message.content] == ["thinking", "text"]


def test_stream_final_message_has_thinking_then_text(
    anthropic_client: anthropic.Anthropic,
) -> None:
    with anthropic_client.messages.stream(
        model="ok", max_tokens=THINKING_MAX_TOKENS, thinking=THINKING_ON, messages=HELLO
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()

    assert "thinking" in kinds
    assert "signature" in kinds
    assert [block.type for block in final.content] == ["thinking", "text"]
    thinking, text = final.content
    assert thinking.type == "thinking"
    assert thinking.thinking == THOUGHT
    assert is_signed(thinking.thinking, thinking.signature)
    assert text.type == "text"
    assert text.text == "echo: hello"
    assert final.usage.output_tokens == estimate_tokens(len("echo: hello")) + estimate_tokens(
        len(THOUGHT)
    )


def test_stream_final_message_has_thinking_then_tool_use(
    anthropic_client: anthropic.Anthropic,
) -> None:
    with anthropic_client.messages.stream(
        model="ok",
        max_tokens=THINKING_MAX_TOKENS,
        thinking=THINKING_ON,
        messages=HELLO,
        tools=TOOLS,
    ) as stream:
        final = stream.get_final_message()

    assert [block.type for block in final.content] == ["thinking", "tool_use"]
    tool_use = final.content[1]
    assert tool_use.type == "tool_use"
    assert tool_use.input == {"city": "example"}
    assert final.stop_reason == "tool_use"


def test_raw_stream_sends_thinking_deltas_then_the_signature(
    fake_anthropic: FakeAnthropic, http: httpx.Client
) -> None:
    fake_anthropic.reset()
    headers = {"x-api-key": fake_anthropic.api_key, "anthropic-version": VERSION}
    body = {
        "model": "ok",
        "max_tokens": THINKING_MAX_TOKENS,
        "thinking": THINKING_ON,
        "messages": HELLO,
        "stream": True,
    }
    response = http.post(f"{fake_anthropic.url}/v1/messages", json=body, headers=headers)

    data = [
        json.loads(line.removeprefix("data: "))
        for line in response.text.split("\n")
        if line.startswith("data: ")
    ]
    blocks = [(event["type"], event.get("index")) for event in data if "index" in event]
    deltas = [event["delta"]["type"] for event in data if event["type"] == "content_block_delta"]
    assert data[1]["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}
    assert blocks[0] == ("content_block_start", 0)
    assert ("content_block_stop", 0) in blocks
    assert ("content_block_start", 1) in blocks
    assert blocks.index(("content_block_stop", 0)) < blocks.index(("content_block_start", 1))
    signature_at = deltas.index("signature_delta")
    assert deltas[:signature_at] == ["thinking_delta"] * signature_at
    assert signature_at > 1
    assert deltas[signature_at + 1 :] == ["text_delta"] * (len(deltas) - signature_at - 1)


def test_tool_loop_with_its_thinking_block_is_accepted(
    anthropic_client: anthropic.Anthropic,
) -> None:
    first = _think(anthropic_client, HELLO, tools=TOOLS)
    thinking, tool_use = first.content

    second = _think(anthropic_client, _tool_loop([thinking, tool_use], tool_use.id), tools=TOOLS)

    assert [block.type for block in second.content] == ["thinking", "text"]
    assert second.content[0].thinking == "thinking about: 18C"
    assert second.content[1].text == "echo: 18C"


def test_tool_loop_without_its_thinking_block_is_rejected(
    anthropic_client: anthropic.Anthropic,
) -> None:
    first = _think(anthropic_client, HELLO, tools=TOOLS)
    tool_use = first.content[1]

    message = _rejection(anthropic_client, _tool_loop([tool_use], tool_use.id), tools=TOOLS)

    assert message.startswith(
        "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`."
    )


def test_thinking_is_required_only_when_thinking_is_on(
    anthropic_client: anthropic.Anthropic,
) -> None:
    first = _think(anthropic_client, HELLO, tools=TOOLS)
    tool_use = first.content[1]

    second = anthropic_client.messages.create(
        model="ok", max_tokens=64, messages=_tool_loop([tool_use], tool_use.id), tools=TOOLS
    )

    assert second.content[0].type == "text"


def test_a_thinking_block_with_edited_text_is_rejected(
    anthropic_client: anthropic.Anthropic,
) -> None:
    first = _think(anthropic_client, HELLO, tools=TOOLS)
    thinking, tool_use = first.content
    forged = {"type": "thinking", "thinking": "edited", "signature": thinking.signature}

    message = _rejection(anthropic_client, _tool_loop([forged, tool_use], tool_use.id), tools=TOOLS)

    assert message == "messages.1.content.0: Invalid `signature` in `thinking` block"


def test_a_made_up_signature_is_rejected(anthropic_client: anthropic.Anthropic) -> None:
    made_up: MessageParam = {
        "role": "assistant",
        "content": [{"type": "thinking", "thinking": THOUGHT, "signature": "c2lnbmF0dXJl"}],
    }

    message = _rejection(anthropic_client, [*HELLO, made_up, *HELLO])

    assert message == "messages.1.content.0: Invalid `signature` in `thinking` block"


@pytest.mark.parametrize(
    ("thinking", "max_tokens", "expected"),
    [
        (
            {"type": "enabled", "budget_tokens": 1023},
            THINKING_MAX_TOKENS,
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        ),
        (
            {"type": "enabled", "budget_tokens": 1024},
            1024,
            "thinking.enabled.budget_tokens: `max_tokens` must be greater than `thinking.budget_tokens`.",
        ),
        (
            {"type": "enabled"},
            THINKING_MAX_TOKENS,
            "thinking.enabled.budget_tokens: Field required",
        ),
        (
            {"type": "on", "budget_tokens": 1024},
            THINKING_MAX_TOKENS,
            "thinking: Input tag 'on' found using 'type' does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'",
        ),
    ],
)
def test_invalid_thinking_configs_are_rejected(
    anthropic_client: anthropic.Anthropic,
    thinking: dict[str, object],
    max_tokens: int,
    expected: str,
) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        anthropic_client.messages.create(
            model="ok",
            max_tokens=max_tokens,
            thinking=cast("Any", thinking),
            messages=HELLO,
        )

    body = caught.value.body
    assert isinstance(body, dict)
    assert body["error"]["message"].startswith(expected)


def test_thinking_allows_only_temperature_one(anthropic_client: anthropic.Anthropic) -> None:
    # anthropic 2.x no longer declares `temperature`; old clients still send it.
    one = _think(anthropic_client, HELLO, extra_body={"temperature": 1})
    assert one.content[0].type == "thinking"

    message = _rejection(anthropic_client, HELLO, extra_body={"temperature": 0.5})

    assert message.startswith("temperature: `temperature` may only be set to 1 when thinking")


def test_thinking_refuses_a_forced_tool_choice(anthropic_client: anthropic.Anthropic) -> None:
    message = _rejection(anthropic_client, HELLO, tools=TOOLS, tool_choice={"type": "any"})

    assert message == "tool_choice: Thinking may not be enabled when tool_choice forces tool use."


def test_count_tokens_checks_thinking_too(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        anthropic_client.messages.count_tokens(
            model="ok", messages=HELLO, thinking={"type": "enabled", "budget_tokens": 10}
        )

    assert isinstance(caught.value.body, dict)
    assert caught.value.body["error"]["message"].startswith("thinking.enabled.budget_tokens: ")
