"""OpenAI Chat Completions request bodies to and from the canonical `Request`.

`decode_chat_request` reads an agent's body: every field is carried, ignored as
bookkeeping or refused by name (see `fields.py`); a bad shape names its path.
`encode_chat_request` writes the body for an OpenAI or OpenAI-compatible upstream.
Encoding is lossy in two documented ways: thinking in assistant history is left out
(Chat has no field for prior reasoning, api.openai.com rejects unknown message fields,
and OpenAI models never get their own reasoning back through Chat), and a tool
result's `is_error` flag has no field (its text still reaches the model). It refuses
`top_k`, more than 4 stop sequences and images inside tool results.
Pure; no I/O. WIRE-FORMATS 2.2, 6.1.
"""

from __future__ import annotations

from typing import Any

from dome.errors import UnsupportedError
from dome.wire.canonical import Request
from dome.wire.facts import optional_bool, optional_int, required_list, required_string
from dome.wire.openai.fields import check_top_level, refuse_unknown
from dome.wire.openai.messages import decode_messages, encode_messages
from dome.wire.openai.options import (
    decode_reasoning,
    decode_response_format,
    decode_stop,
    decode_tool_choice,
    decode_tools,
    encode_reasoning,
    encode_response_format,
    encode_stop,
    encode_tool,
    encode_tool_choice,
    sampling_number,
)
from dome.wire.shape import JSONObject, expect_object, expect_string, fail

# include_obfuscation pads chunks against a side channel; the broker writes its own.
_STREAM_OPTIONS = frozenset({"include_usage", "include_obfuscation"})


def decode_chat_request(body: dict[str, Any]) -> Request:
    """The canonical form of an agent's `POST /v1/chat/completions` body.

    Raises:
        InvalidRequestError: a field has a bad shape; `param` names its path.
        UnsupportedError: a field asks for what the canonical form cannot carry.
    """
    check_top_level(body)
    stream = optional_bool(body, "stream")
    user = body.get("user")
    if user is None:
        user = body.get("safety_identifier")
    return Request(
        model=required_string(body, "model"),
        messages=decode_messages(required_list(body, "messages")),
        max_tokens=_max_tokens(body),
        temperature=sampling_number(body, "temperature", 2.0),
        top_p=sampling_number(body, "top_p", 1.0),
        stop=decode_stop(body.get("stop")),
        tools=decode_tools(body.get("tools")),
        tool_choice=decode_tool_choice(body.get("tool_choice")),
        parallel_tool_calls=_optional_flag(body, "parallel_tool_calls"),
        response_format=decode_response_format(body.get("response_format")),
        reasoning=decode_reasoning(body.get("reasoning_effort")),
        user=None if user is None else expect_string(user, "user"),
        stream=stream,
        include_usage=stream and _include_usage(body.get("stream_options")),
    )


def _max_tokens(body: dict[str, Any]) -> int | None:
    """`max_completion_tokens` is preferred; `max_tokens` is its deprecated alias."""
    value = optional_int(body, "max_completion_tokens")
    return value if value is not None else optional_int(body, "max_tokens")


def _optional_flag(body: JSONObject, field: str) -> bool | None:
    value = body.get(field)
    if value is not None and not isinstance(value, bool):
        fail(field, "expected a boolean")
    return value


def _include_usage(value: object) -> bool:
    if value is None:
        return False
    options = expect_object(value, "stream_options")
    refuse_unknown(options, "stream_options", _STREAM_OPTIONS)
    flag = options.get("include_usage")
    if flag is not None and not isinstance(flag, bool):
        fail("stream_options.include_usage", "expected a boolean")
    return flag is True


def encode_chat_request(
    request: Request, model: str, *, legacy_max_tokens: bool = False
) -> dict[str, object]:
    """The body for an OpenAI-format upstream; `model` is the provider's model id.

    `legacy_max_tokens` sends `max_tokens` instead of `max_completion_tokens`, for
    self-hosted servers that know only the older name. A stream always asks for usage:
    the broker meters every call.

    Raises:
        UnsupportedError: the request holds what OpenAI Chat cannot carry; `param`
            names it.
    """
    if request.top_k is not None:
        raise UnsupportedError("top_k: OpenAI Chat Completions has no top_k", param="top_k")
    body: dict[str, object] = {"model": model, "messages": encode_messages(request.messages)}
    if request.max_tokens is not None:
        body["max_tokens" if legacy_max_tokens else "max_completion_tokens"] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop"] = encode_stop(request.stop)
    body.update(_encode_tooling(request))
    if request.response_format is not None:
        body["response_format"] = encode_response_format(request.response_format)
    effort = None if request.reasoning is None else encode_reasoning(request.reasoning)
    if effort is not None:
        body["reasoning_effort"] = effort
    if request.user is not None:
        body["user"] = request.user
    if request.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _encode_tooling(request: Request) -> dict[str, object]:
    """tools, tool_choice, parallel_tool_calls; the last two only beside tools, since
    OpenAI rejects them alone (and without tools the model can call none anyway)."""
    if not request.tools:
        return {}
    body: dict[str, object] = {"tools": [encode_tool(tool) for tool in request.tools]}
    if request.tool_choice is not None:
        body["tool_choice"] = encode_tool_choice(request.tool_choice)
    if request.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = request.parallel_tool_calls
    return body
