"""Behaviour names: how a fake upstream answers, chosen by the requested model.

A model name selects a behaviour when it contains the behaviour's name
(`"gpt-error-429"`, `"claude-slow"`); anything else behaves as `ok`. Two more
markers combine with any behaviour: `parallel` (two tool calls) and `reasoner`
(the fake OpenAI shows reasoning text). This module only names and classifies
behaviours; the vendor modules render them.
"""

import enum

PARALLEL_MARKER = "parallel"
"""A model containing this asks for two tool calls instead of one."""

REASONER_MARKER = "reasoner"
"""An OpenAI model containing this shows its reasoning (`reasoning_content`), like vLLM."""

SLOW_EVENT_INTERVAL = 0.05
"""Seconds between stream events for `slow`."""

SLOW_RESPONSE_DELAY = 0.2
"""Seconds a non-streaming `slow` answer waits before it is sent."""

HANG_SECONDS = 30.0
"""Seconds `hang` sends nothing at all (not even headers), unless the client hangs up
first; then it answers as `ok`. Far past any timeout a test sets on the broker."""


class Behaviour(enum.Enum):
    """What the fake does with a request; the value is the model-name marker."""

    OK = "ok"
    SLOW = "slow"
    ERROR_400 = "error-400"
    ERROR_429 = "error-429"
    ERROR_500 = "error-500"
    ERROR_529 = "error-529"
    STREAM_CUT = "stream-cut"
    STREAM_TRUNCATED_CLEAN = "stream-truncated-clean"
    BAD_JSON = "bad-json"
    HANG = "hang"
    # The stream starts (usage included), then says overloaded, in one write: the way a
    # provider fails a call it has begun to bill (Anthropic sends `event: error`).
    STREAM_OVERLOADED = "stream-overloaded"


class Failure(enum.Enum):
    """Vendor-neutral error kinds; each vendor fake maps them to status and type."""

    INVALID_REQUEST = "invalid_request"
    UNAUTHENTICATED = "unauthenticated"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    OVERLOADED = "overloaded"


ERROR_400_PARAM = "messages"
"""The request parameter that `error-400` blames."""

_FAILURES: dict[Behaviour, Failure] = {
    Behaviour.ERROR_400: Failure.INVALID_REQUEST,
    Behaviour.ERROR_429: Failure.RATE_LIMITED,
    Behaviour.ERROR_500: Failure.SERVER_ERROR,
    Behaviour.ERROR_529: Failure.OVERLOADED,
}

_PARTIAL = frozenset({Behaviour.STREAM_CUT, Behaviour.STREAM_TRUNCATED_CLEAN})


def behaviour_for(model: str) -> Behaviour:
    """The behaviour whose name `model` contains; `OK` when none does."""
    for behaviour in Behaviour:
        if behaviour is not Behaviour.OK and behaviour.value in model:
            return behaviour
    return Behaviour.OK


def is_parallel(model: str) -> bool:
    return PARALLEL_MARKER in model


def is_reasoner(model: str) -> bool:
    return REASONER_MARKER in model


def failure_for(behaviour: Behaviour) -> Failure | None:
    """The error a behaviour answers with before any body, if it is an error one."""
    return _FAILURES.get(behaviour)


def is_partial(behaviour: Behaviour) -> bool:
    """True when the behaviour sends only the first part of its answer."""
    return behaviour in _PARTIAL


def catalog_models() -> list[str]:
    """Model ids the fakes list: one per behaviour, plus parallel-tools and reasoner ones."""
    names = [behaviour.value for behaviour in Behaviour]
    ok = Behaviour.OK.value
    return [*names, f"{ok}-{PARALLEL_MARKER}", f"{ok}-{REASONER_MARKER}"]
