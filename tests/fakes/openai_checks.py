"""What the real OpenAI Chat Completions API refuses in a request body, as `Rejection`s.

Top-level arguments, sampling, reasoning and tools (WIRE-FORMATS.md section
2.2); the conversation is `openai_turns`. Pure; messages and codes follow the
API's own wording.
"""

import re
from collections.abc import Iterator

from tests.fakes.openai_turns import conversation_rejections, json_kind, supported_values
from tests.fakes.payload import JsonObject, as_object, list_field
from tests.fakes.reasoning import EFFORT_REASONING_TOKENS
from tests.fakes.rejection import Rejection, first_rejection, is_number

CHAT_FIELDS = frozenset(
    {
        "audio",
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "messages",
        "metadata",
        "modalities",
        "model",
        "moderation",
        "n",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "seed",
        "service_tier",
        "stop",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "user",
        "verbosity",
        "web_search_options",
    }
)
"""Top-level arguments of `POST /v1/chat/completions` (openai SDK 3.57 and openapi.yaml)."""

MAX_TEMPERATURE = 2
MAX_STOP_SEQUENCES = 4
FUNCTION_NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def chat_rejection(body: JsonObject) -> Rejection | None:
    """Why the API would refuse `body` on `/v1/chat/completions`, or None."""
    return first_rejection(_rejections(body))


def _rejections(body: JsonObject) -> Iterator[Rejection]:
    for field in body:
        if field not in CHAT_FIELDS:
            yield Rejection(f"Unrecognized request argument supplied: {field}")
    yield from _temperature_rejections(body.get("temperature"))
    yield from _stop_rejections(body.get("stop"))
    yield from _reasoning_rejections(body)
    if body.get("stream_options") is not None and body.get("stream") is not True:
        message = "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        yield Rejection(message, "stream_options", "invalid_value")
    yield from _tool_rejections(body.get("tools"))
    yield from conversation_rejections(list_field(body, "messages"))


def _temperature_rejections(temperature: object) -> Iterator[Rejection]:
    if temperature is None:
        return
    if not is_number(temperature) or not isinstance(temperature, int | float):
        kind = json_kind(temperature)
        message = f"Invalid type for 'temperature': expected a decimal, but got {kind} instead."
        yield Rejection(message, "temperature", "invalid_type")
    elif temperature < 0:
        message = f"Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got {temperature} instead."
        yield Rejection(message, "temperature", "decimal_below_min_value")
    elif temperature > MAX_TEMPERATURE:
        message = f"Invalid 'temperature': decimal above maximum value. Expected a value <= {MAX_TEMPERATURE}, but got {temperature} instead."
        yield Rejection(message, "temperature", "decimal_above_max_value")


def _stop_rejections(stop: object) -> Iterator[Rejection]:
    # `stop` is a string or an array of at most 4 strings (section 2.2).
    if stop is None or isinstance(stop, str):
        return
    if not isinstance(stop, list) or not all(isinstance(item, str) for item in stop):
        message = "Invalid type for 'stop': expected a string or an array of strings."
        yield Rejection(message, "stop", "invalid_type")
    elif len(stop) > MAX_STOP_SEQUENCES:
        message = f"Invalid 'stop': array too long. Expected an array with maximum length {MAX_STOP_SEQUENCES}, but got an array with length {len(stop)} instead."
        yield Rejection(message, "stop", "array_above_max_length")


def _reasoning_rejections(body: JsonObject) -> Iterator[Rejection]:
    # Reasoning models reject `max_tokens` (section 2.2); the fake treats any
    # request with `reasoning_effort` as one for a reasoning model.
    effort = body.get("reasoning_effort")
    if effort is None:
        return
    efforts = tuple(EFFORT_REASONING_TOKENS)
    if effort not in efforts:
        message = f"Invalid value for 'reasoning_effort': '{effort}'. Supported values are: {supported_values(efforts)}."
        yield Rejection(message, "reasoning_effort", "invalid_value")
    if body.get("max_tokens") is not None:
        message = "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
        yield Rejection(message, "max_tokens", "unsupported_parameter")


def _tool_rejections(tools: object) -> Iterator[Rejection]:
    if tools is None:
        return
    if not isinstance(tools, list):
        yield Rejection("Invalid type for 'tools': expected an array.", "tools", "invalid_type")
        return
    for index, tool in enumerate(tools):
        spec = as_object(tool)
        path = f"tools[{index}]"
        if spec.get("type") == "custom":
            continue
        if "type" not in spec:
            message = f"Missing required parameter: '{path}.type'."
            yield Rejection(message, f"{path}.type", "missing_required_parameter")
        elif spec.get("type") != "function":
            message = f"Invalid value: '{spec.get('type')}'. Supported values are: 'function' and 'custom'."
            yield Rejection(message, f"{path}.type", "invalid_value")
        elif not isinstance(spec.get("function"), dict):
            message = f"Missing required parameter: '{path}.function'."
            yield Rejection(message, f"{path}.function", "missing_required_parameter")
        else:
            name = as_object(spec.get("function")).get("name")
            if not isinstance(name, str) or FUNCTION_NAME_PATTERN.fullmatch(name) is None:
                name_path = f"{path}.function.name"
                message = f"Invalid '{name_path}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{{1,64}}$'."
                yield Rejection(message, name_path, "invalid_value")
