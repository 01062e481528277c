"""Requests and SDK calls shared by the fakes' fidelity tests."""

import anthropic
import openai
from anthropic.types import MessageParam, ThinkingConfigEnabledParam
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

ANTHROPIC_VERSION = "2023-06-01"
GATE_HOLD = 0.3
"""Seconds a gate test keeps the stream held before releasing it."""

OPENAI_HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]
ANTHROPIC_HELLO: list[MessageParam] = [{"role": "user", "content": "hello"}]


def openai_stream(client: openai.OpenAI, model: str, **extra: object) -> list[ChatCompletionChunk]:
    """Every chunk of a streamed `hello` completion, the stream closed after."""
    with client.chat.completions.create(
        model=model,
        messages=OPENAI_HELLO,
        stream=True,
        **extra,  # type: ignore[call-overload]
    ) as stream:
        return list(stream)


def anthropic_create(
    client: anthropic.Anthropic, model: str, **extra: object
) -> anthropic.types.Message:
    """A non-streaming `hello` message."""
    return client.messages.create(  # type: ignore[no-any-return, call-overload]
        model=model, max_tokens=64, messages=ANTHROPIC_HELLO, **extra
    )


PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII="
)
"""A valid 1x1 RGBA PNG (68 bytes), for image inputs."""
PNG_DATA_URL = f"data:image/png;base64,{PNG_BASE64}"

THINKING_ON: ThinkingConfigEnabledParam = {"type": "enabled", "budget_tokens": 1024}
"""The smallest valid extended-thinking config; needs `max_tokens` above 1024."""
THINKING_MAX_TOKENS = 2048
