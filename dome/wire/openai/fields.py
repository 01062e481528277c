"""Which Chat Completions request fields translation carries, ignores or refuses.

Every top-level field is in exactly one of `CARRIED_FIELDS`, `IGNORED_FIELDS`
(provider bookkeeping that does not change the answer) and `UNSUPPORTED_FIELDS`
(refused unless left at a value that asks for nothing); any other field is refused by
name, never dropped. docs/translation.md is checked against these tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dome.errors import UnsupportedError
from dome.wire.shape import JSONObject

CARRIED_FIELDS: frozenset[str] = frozenset(
    {
        "model",
        "messages",
        "max_completion_tokens",
        "max_tokens",  # the deprecated alias; max_completion_tokens wins
        "temperature",
        "top_p",
        "stop",
        "stream",
        "stream_options",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "reasoning_effort",
        "user",
        "safety_identifier",  # read as `user` when `user` is absent
    }
)
"""Fields translated into the canonical request."""

IGNORED_FIELDS: Mapping[str, str] = {
    "store": "asks OpenAI to keep the completion for its dashboard",
    "metadata": "tags for OpenAI's dashboard",
    "service_tier": "OpenAI's latency and price tier",
    "prompt_cache_key": "a routing hint for OpenAI's prompt cache",
    "prompt_cache_retention": "how long OpenAI keeps its prompt cache",
    "prompt_cache_options": "OpenAI's prompt cache breakpoints and lifetime",
}
"""Fields accepted and not carried, with why: they decide how a call is cached, billed
or kept, never what the model answers."""


@dataclass(frozen=True, slots=True)
class Untranslatable:
    """Why a field is refused, and the values that ask for nothing and so pass."""

    reason: str
    neutral: tuple[object, ...] = ()


UNSUPPORTED_FIELDS: Mapping[str, Untranslatable] = {
    "n": Untranslatable("only 1 choice can be translated to another provider's format", (1,)),
    "logprobs": Untranslatable("token log probabilities cannot be translated", (False,)),
    "top_logprobs": Untranslatable("token log probabilities cannot be translated", (0,)),
    "presence_penalty": Untranslatable("presence penalties cannot be translated", (0,)),
    "frequency_penalty": Untranslatable("frequency penalties cannot be translated", (0,)),
    "logit_bias": Untranslatable("token biases cannot be translated", ({},)),
    "seed": Untranslatable("seeded sampling cannot be translated"),
    "audio": Untranslatable("audio output cannot be translated"),
    "modalities": Untranslatable("only text output can be translated", (["text"],)),
    "prediction": Untranslatable("predicted outputs cannot be translated"),
    "web_search_options": Untranslatable("OpenAI's built-in web search cannot be translated"),
    "verbosity": Untranslatable("verbosity cannot be translated", ("medium",)),
    "moderation": Untranslatable("OpenAI's moderation cannot be translated"),
    "functions": Untranslatable("legacy function calling cannot be translated; use tools", ([],)),
    "function_call": Untranslatable(
        "legacy function calling cannot be translated; use tool_choice"
    ),
}
"""Fields another provider cannot carry; null or a neutral value (the default) passes."""

_TOP_LEVEL = frozenset(CARRIED_FIELDS | IGNORED_FIELDS.keys() | UNSUPPORTED_FIELDS.keys())


def check_top_level(body: JSONObject) -> None:
    """UnsupportedError for an unknown field or a refused field that asks for something."""
    refuse_unknown(body, "", _TOP_LEVEL)
    refuse_unless_neutral(body, "", UNSUPPORTED_FIELDS)


def refuse_unknown(obj: JSONObject, path: str, known: frozenset[str]) -> None:
    """UnsupportedError naming the first field of `obj` outside `known`."""
    for key in obj:
        if key not in known:
            param = _join(path, key)
            message = f"{param}: unknown field; it cannot be translated"
            raise UnsupportedError(message, param=param)


def refuse_unless_neutral(
    obj: JSONObject, path: str, refused: Mapping[str, Untranslatable]
) -> None:
    """UnsupportedError for the first field of `refused` that `obj` sets to ask for something."""
    for key, rule in refused.items():
        if not _is_neutral(obj.get(key), rule.neutral):
            param = _join(path, key)
            raise UnsupportedError(f"{param}: {rule.reason}", param=param)


def _is_neutral(value: object, neutral: tuple[object, ...]) -> bool:
    # bool is an int in Python: keep `true` from passing for `n: 1`, `0` for `false`.
    return value is None or any(
        value == candidate and isinstance(value, bool) == isinstance(candidate, bool)
        for candidate in neutral
    )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
