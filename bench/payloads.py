"""The fixed bytes of the benchmark: the agent's request, the fake upstream's answers.

Pure data, no I/O. Sizes follow research/perf-baseline.md: a ~167 B request, a ~361 B
chat.completion and a ~4.5 KB stream of 20 chat.completion.chunk events plus [DONE].
The same request in Anthropic Messages format is what the "translated" target sends.
"""

from __future__ import annotations

import json

FAST_MODEL = "bench-fast"
PACED_MODEL = "bench-paced"
STREAM_EVENTS = 21  # 20 chunks (the last carries usage) + [DONE]
PACE_SECONDS = 0.005

_WORDS = (
    "Hello",
    "!",
    " This",
    " is",
    " a",
    " fixed",
    " answer",
    " from",
    " the",
    " bench",
    " upstream",
    ",",
    " sent",
    " in",
    " small",
    " pieces",
    ".",
)
SYSTEM_TEXT = "You are a terse assistant."
USER_TEXT = "Say hello in one sentence."
MAX_TOKENS = 32
ANSWER_TEXT = "Hello! This is the bench mock."  # the non-streaming answer's text
STREAM_TEXT = "".join(_WORDS)  # the streamed answer's text, one word per chunk
CONTENT_EVENTS = len(_WORDS)  # chunks that carry text
PROMPT_TOKENS = 25
COMPLETION_TOKENS = 17
_CREATED = 1764115200
_ID = "chatcmpl-bench7Qx3mZr1Kc9Vn"
_FINGERPRINT = "fp_b3nch0001"
_USAGE = {
    "prompt_tokens": PROMPT_TOKENS,
    "completion_tokens": COMPLETION_TOKENS,
    "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
}


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def chat_request(model: str, *, stream: bool) -> bytes:
    """The agent's request body: a system and a user message, max_tokens 32."""
    body: dict[str, object] = {
        "model": model,
        "messages": [
            {"role": "system", "content": SYSTEM_TEXT},
            {"role": "user", "content": USER_TEXT},
        ],
        "max_tokens": MAX_TOKENS,
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return _dumps(body)


def messages_request(model: str, *, stream: bool) -> bytes:
    """The same request as an Anthropic agent sends it to `POST /v1/messages`."""
    body: dict[str, object] = {
        "model": model,
        "max_tokens": MAX_TOKENS,
        "system": SYSTEM_TEXT,
        "messages": [{"role": "user", "content": USER_TEXT}],
    }
    if stream:
        body["stream"] = True
    return _dumps(body)


def chat_completion() -> bytes:
    """A complete non-streaming answer with usage (~361 B)."""
    return _dumps(
        {
            "id": _ID,
            "object": "chat.completion",
            "created": _CREATED,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": ANSWER_TEXT,
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _USAGE,
            "system_fingerprint": _FINGERPRINT,
        }
    )


def _chunk(delta: dict[str, object], finish: str | None) -> dict[str, object]:
    return {
        "id": _ID,
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def stream_events() -> list[bytes]:
    """The 21 SSE events of one stream, each one `data:` line, ending with [DONE]."""
    chunks: list[dict[str, object]] = [_chunk({"role": "assistant", "content": ""}, None)]
    chunks += [_chunk({"content": word}, None) for word in _WORDS]
    chunks.append(_chunk({}, "stop"))
    usage = _chunk({}, None)
    usage["choices"] = []
    usage["usage"] = _USAGE
    chunks.append(usage)
    events = [b"data: " + _dumps(chunk) + b"\n\n" for chunk in chunks]
    events.append(b"data: [DONE]\n\n")
    if len(events) != STREAM_EVENTS:
        msg = f"expected {STREAM_EVENTS} events, built {len(events)}"
        raise AssertionError(msg)
    return events
