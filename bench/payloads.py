"""The fixed bytes of the benchmark: the agent's request, the fake upstream's answers.

Pure data, no I/O. Sizes follow research/perf-baseline.md: a ~167 B request, a ~361 B
chat.completion and a ~4.5 KB stream of 20 chat.completion.chunk events plus [DONE].
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
_CREATED = 1764115200
_ID = "chatcmpl-bench7Qx3mZr1Kc9Vn"
_FINGERPRINT = "fp_b3nch0001"
_USAGE = {"prompt_tokens": 25, "completion_tokens": 17, "total_tokens": 42}


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def chat_request(model: str, *, stream: bool) -> bytes:
    """The agent's request body: a system and a user message, max_tokens 32."""
    body: dict[str, object] = {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": "Say hello in one sentence."},
        ],
        "max_tokens": 32,
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
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
                        "content": "Hello! This is the bench mock.",
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
