"""The published translation matrix: every {agent SDK} x {provider} x {stream} x {feature}.

Each cell runs through the official SDK, whose typed parsing must accept every answer
and streamed event. The results are rendered into docs/conformance.md, and the
committed file must equal what this run produces. After a deliberate change:

    DOME_WRITE_CONFORMANCE=1 .venv/bin/pytest tests/integration/test_conformance.py
"""

from __future__ import annotations

import base64
import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from anthropic.types import Message
from openai.types.chat import ChatCompletion

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.broker import threaded_broker

CONFORMANCE_DOC = Path(__file__).parents[2] / "docs" / "conformance.md"

AGENTS = ("openai", "anthropic")
PROVIDERS = ("openai", "anthropic", "openai-compatible", "mock")
MODES = ("whole", "stream")
FEATURES = ("text", "tools", "images", "reasoning")

# A 1x1 PNG, and a URL the fakes echo back without fetching.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PNG_B64 = base64.b64encode(PNG).decode()
IMAGE_URL = "https://images.example.com/cat.png"
WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


@dataclass(frozen=True, slots=True)
class Cell:
    agent: str
    provider: str
    mode: str
    feature: str

    @property
    def label(self) -> str:
        return f"{self.agent}-agent/{self.provider}/{self.mode}/{self.feature}"


@dataclass(frozen=True, slots=True)
class Outcome:
    passed: bool
    note: str


@dataclass
class Answer:
    """One SDK-assembled answer, in terms both SDKs share."""

    text: str
    tool_calls: list[tuple[str, str, dict[str, Any]]]  # (id, name, arguments)
    stop: str  # "end" or "tool" (or the raw reason when neither)
    thinking: str
    signed: bool  # a thinking block came with a signature
    reasoning_tokens: int
    input_tokens: int
    output_tokens: int
    extra: dict[str, Any] = field(default_factory=dict)


# --- the two agents ------------------------------------------------------------------


class OpenAIAgent:
    def __init__(self, client: openai.OpenAI, model: str, stream: bool) -> None:
        self.client, self.model, self.stream = client, model, stream

    def ask(self, messages: list[dict[str, Any]], **options: Any) -> Answer:
        completion: ChatCompletion
        if self.stream:
            with self.client.chat.completions.stream(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                stream_options={"include_usage": True},
                **options,
            ) as stream:
                for _event in stream:
                    pass
                completion = stream.get_final_completion()
        else:
            completion = self.client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                **options,
            )
        choice = completion.choices[0]
        message = choice.message
        extra = dict(message.model_extra or {})
        calls = [
            (call.id, call.function.name, json.loads(call.function.arguments or "{}"))
            for call in message.tool_calls or []
            if call.type == "function"
        ]
        usage = completion.usage
        assert usage is not None, "no usage in the answer"
        details = usage.completion_tokens_details
        blocks = extra.get("thinking_blocks") or []
        return Answer(
            text=message.content or "",
            tool_calls=calls,
            stop={"stop": "end", "tool_calls": "tool"}.get(
                choice.finish_reason, choice.finish_reason
            ),
            thinking=extra.get("reasoning_content") or "",
            signed=any(block.get("signature") for block in blocks),
            reasoning_tokens=(details.reasoning_tokens or 0) if details else 0,
            input_tokens=usage.prompt_tokens,
            output_tokens=usage.completion_tokens,
            extra=extra,
        )

    def text_turn(self, text: str) -> list[dict[str, Any]]:
        return [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": text},
        ]

    def image_turn(self, text: str) -> list[dict[str, Any]]:
        data_url = f"data:image/png;base64,{PNG_B64}"
        content = [
            {"type": "text", "text": text},
            {"type": "image_url", "image_url": {"url": data_url}},
            {"type": "image_url", "image_url": {"url": IMAGE_URL}},
        ]
        return [{"role": "user", "content": content}]

    def tool_options(self) -> dict[str, Any]:
        tool = {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": WEATHER_SCHEMA,
            },
        }
        return {"tools": [tool]}

    def with_tool_result(
        self, messages: list[dict[str, Any]], answer: Answer, result: str
    ) -> list[dict[str, Any]]:
        calls = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for call_id, name, args in answer.tool_calls
        ]
        followup = [
            {"role": "tool", "tool_call_id": call_id, "content": result}
            for call_id, _, _ in answer.tool_calls
        ]
        return [*messages, {"role": "assistant", "content": None, "tool_calls": calls}, *followup]

    def reasoning_options(self) -> dict[str, Any]:
        return {"reasoning_effort": "low", "max_completion_tokens": 4096}


class AnthropicAgent:
    def __init__(self, client: anthropic.Anthropic, model: str, stream: bool) -> None:
        self.client, self.model, self.stream = client, model, stream

    def ask(self, messages: list[dict[str, Any]], **options: Any) -> Answer:
        options.setdefault("max_tokens", 1024)
        message: Message
        if self.stream:
            with self.client.messages.stream(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                **options,
            ) as stream:
                for _event in stream:
                    pass
                message = stream.get_final_message()
        else:
            message = self.client.messages.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                **options,
            )
        texts = [block.text for block in message.content if block.type == "text"]
        thinking = [block for block in message.content if block.type == "thinking"]
        calls = [
            (block.id, block.name, dict(block.input))
            for block in message.content
            if block.type == "tool_use"
        ]
        details = message.usage.output_tokens_details
        reasoning = getattr(details, "thinking_tokens", 0) if details is not None else 0
        reason = message.stop_reason or ""
        return Answer(
            text="".join(texts),
            tool_calls=calls,
            stop={"end_turn": "end", "tool_use": "tool"}.get(reason, reason),
            thinking="".join(block.thinking for block in thinking),
            signed=any(block.signature for block in thinking),
            reasoning_tokens=reasoning or 0,
            input_tokens=message.usage.input_tokens,
            output_tokens=message.usage.output_tokens,
            extra={"content": [block.type for block in message.content]},
        )

    def text_turn(self, text: str) -> list[dict[str, Any]]:
        return [{"role": "user", "content": text}]

    def text_options(self) -> dict[str, Any]:
        return {"system": "Answer briefly."}

    def image_turn(self, text: str) -> list[dict[str, Any]]:
        content = [
            {"type": "text", "text": text},
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64},
            },
            {"type": "image", "source": {"type": "url", "url": IMAGE_URL}},
        ]
        return [{"role": "user", "content": content}]

    def tool_options(self) -> dict[str, Any]:
        tool = {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": WEATHER_SCHEMA,
        }
        return {"tools": [tool]}

    def with_tool_result(
        self, messages: list[dict[str, Any]], answer: Answer, result: str
    ) -> list[dict[str, Any]]:
        uses = [
            {"type": "tool_use", "id": call_id, "name": name, "input": args}
            for call_id, name, args in answer.tool_calls
        ]
        results = [
            {"type": "tool_result", "tool_use_id": call_id, "content": result}
            for call_id, _, _ in answer.tool_calls
        ]
        return [
            *messages,
            {"role": "assistant", "content": uses},
            {"role": "user", "content": results},
        ]

    def reasoning_options(self) -> dict[str, Any]:
        return {"thinking": {"type": "enabled", "budget_tokens": 1024}, "max_tokens": 4096}


Agent = OpenAIAgent | AnthropicAgent


# --- the features --------------------------------------------------------------------


def check_text(agent: Agent, _cell: Cell) -> str:
    options = agent.text_options() if isinstance(agent, AnthropicAgent) else {}
    answer = agent.ask(agent.text_turn("hello conformance"), **options)
    assert "hello conformance" in answer.text, f"answer text {answer.text!r}"
    assert answer.stop == "end", f"stop reason {answer.stop!r}"
    assert answer.input_tokens > 0, "input tokens not reported"
    assert answer.output_tokens > 0, "output tokens not reported"
    return ""


def check_tools(agent: Agent, _cell: Cell) -> str:
    messages = agent.text_turn("What is the weather in Paris?")
    first = agent.ask(messages, **agent.tool_options())
    assert first.stop == "tool", f"stop reason {first.stop!r}"
    assert len(first.tool_calls) == 1, f"tool calls {first.tool_calls!r}"
    _, name, arguments = first.tool_calls[0]
    assert name == "get_weather", f"tool {name!r}"
    assert isinstance(arguments.get("city"), str), f"arguments {arguments!r}"
    followup = agent.with_tool_result(messages, first, "sunny, 21 C")
    second = agent.ask(followup, **agent.tool_options())
    assert second.stop == "end", f"after the tool result: stop reason {second.stop!r}"
    assert "sunny, 21 C" in second.text, f"after the tool result: {second.text!r}"
    return ""


def check_images(agent: Agent, _cell: Cell) -> str:
    answer = agent.ask(agent.image_turn("describe these"))
    assert f"image/png {len(PNG)} bytes" in answer.text, f"base64 image lost: {answer.text!r}"
    assert IMAGE_URL in answer.text, f"URL image lost: {answer.text!r}"
    return ""


def check_reasoning(agent: Agent, cell: Cell) -> str:
    answer = agent.ask(agent.text_turn("think about conformance"), **agent.reasoning_options())
    assert "think about conformance" in answer.text, f"answer text {answer.text!r}"
    assert answer.stop == "end", f"stop reason {answer.stop!r}"
    if cell.provider == "openai":
        # Chat Completions returns no reasoning text: only its token count.
        assert answer.reasoning_tokens > 0, "reasoning tokens not reported"
        return "reasoning tokens reported; OpenAI Chat Completions returns no reasoning text"
    assert answer.thinking, f"no reasoning text in {answer.extra!r}"
    if cell.provider in {"anthropic", "mock"}:
        assert answer.signed, "thinking signature lost"
    if cell.agent == "openai":
        signed = ", signed blocks in `thinking_blocks`" if answer.signed else ""
        return f"reasoning text in `reasoning_content`{signed}"
    if answer.signed:
        return "signed thinking blocks"
    return "thinking blocks without signature (the provider gives none)"


CHECKS: dict[str, Callable[[Agent, Cell], str]] = {
    "text": check_text,
    "tools": check_tools,
    "images": check_images,
    "reasoning": check_reasoning,
}

CELLS = [Cell(*values) for values in itertools.product(AGENTS, PROVIDERS, MODES, FEATURES)]

# The model entry behind each provider column.
ENTRIES = {
    "openai": "conf-openai",
    "anthropic": "conf-anthropic",
    "openai-compatible": "conf-compatible",
    "mock": "conf-mock",
}


def run_cell(cell: Cell, url: str, token: str) -> Outcome:
    model, stream = ENTRIES[cell.provider], cell.mode == "stream"
    agent: Agent
    with (
        openai.OpenAI(base_url=url + "/v1", api_key=token, max_retries=0) as openai_sdk,
        anthropic.Anthropic(base_url=url, api_key=token, max_retries=0) as anthropic_sdk,
    ):
        if cell.agent == "openai":
            agent = OpenAIAgent(openai_sdk, model, stream)
        else:
            agent = AnthropicAgent(anthropic_sdk, model, stream)
        try:
            return Outcome(passed=True, note=CHECKS[cell.feature](agent, cell))
        except (AssertionError, openai.APIError, anthropic.APIError) as error:
            return Outcome(passed=False, note=f"{type(error).__name__}: {error}")


@pytest.fixture(scope="module")
def outcomes(
    tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> Iterator[dict[Cell, Outcome]]:
    with threaded_broker(tmp_path_factory.mktemp("conformance")) as broker:
        admin = broker.admin
        admin.permit_all()
        token = admin.agent("conformance-agent")
        admin.model(
            "conf-openai",
            "openai",
            model="gpt-5-mini",
            base_url=fake_openai.url + "/v1",
            credential=fake_openai.api_key,
        )
        admin.model(
            "conf-anthropic",
            "anthropic",
            model="claude-sonnet-4-6",
            base_url=fake_anthropic.url,
            credential=fake_anthropic.api_key,
        )
        admin.model(
            "conf-compatible",
            "openai-compatible",
            model="qwen3-reasoner",
            base_url=fake_openai.url + "/v1",
            credential=fake_openai.api_key,
        )
        admin.model("conf-mock", "mock", model="mock-1")
        yield {cell: run_cell(cell, broker.url, token) for cell in CELLS}


@pytest.mark.parametrize("cell", CELLS, ids=[cell.label for cell in CELLS])
def test_cell(outcomes: dict[Cell, Outcome], cell: Cell) -> None:
    outcome = outcomes[cell]
    assert outcome.passed, outcome.note


def render(outcomes: dict[Cell, Outcome]) -> str:
    lines = [
        "# Translation conformance",
        "",
        "Every cell is an official SDK (`openai`, `anthropic`) calling the broker, which",
        "serves the call from a provider of the named kind (the test suite's fake OpenAI",
        "and Anthropic APIs on loopback, or the built-in mock). The SDK's own typed",
        "parsing accepts every answer and streamed event. `tests/integration/test_conformance.py`",
        "writes this file; CI fails when it differs from what the tests produce.",
        "",
        "Features: **text** (system prompt, answer, stop reason, usage), **tools** (a tool",
        "call, then its result sent back for a final answer), **images** (one base64, one",
        "URL, both must reach the model), **reasoning** (OpenAI `reasoning_effort`,",
        "Anthropic `thinking`). See [translation.md](translation.md) for the field mapping.",
        "",
        "| Agent SDK | Provider | Mode | Feature | Result | Notes |",
        "|---|---|---|---|---|---|",
    ]
    for cell in CELLS:
        outcome = outcomes[cell]
        result = "pass" if outcome.passed else "FAIL"
        note = outcome.note.replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| {cell.agent} | {cell.provider} | {cell.mode} | {cell.feature} | {result} | {note} |"
        )
    return "\n".join(lines) + "\n"


def test_published_matrix_is_current(outcomes: dict[Cell, Outcome]) -> None:
    rendered = render(outcomes)
    if os.environ.get("DOME_WRITE_CONFORMANCE") == "1":
        CONFORMANCE_DOC.write_text(rendered)
    committed = CONFORMANCE_DOC.read_text() if CONFORMANCE_DOC.exists() else ""
    assert committed == rendered, (
        "docs/conformance.md differs from this run; after a deliberate change run "
        "DOME_WRITE_CONFORMANCE=1 .venv/bin/pytest tests/integration/test_conformance.py"
    )
