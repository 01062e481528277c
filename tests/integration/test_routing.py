"""Routing end to end (docs/routing.md): pools of fake upstreams failing on cue, called
through the official openai and anthropic SDKs.

Every test checks three things: what the agent saw (one clean answer in its own format,
or one error in its own format), what each fake received, and what the audit kept (every
attempt, in order, once; usage from the serving attempt only).

One broker for the module. Member health (Retry-After pauses, circuit breakers) and
cascade retry memory live in the broker process and are keyed by entry name, agent and
body, so every test makes its own model entries and pools under fresh names. A pool
matches only its own name (`{"request.model": [name]}`): the default `{}` would take
every call the module makes.

A pool is invisible: the answer's `model` is the name the agent asked for, whichever
member served. `ask` checks that, and reports the member that served (the model id of
the last request the fakes received, which is the serving attempt's).
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import anthropic
import openai
import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.upstream import FakeUpstream
from tests.integration.broker import AdminClient, ThreadedBroker, free_port, threaded_broker

Sdk = Literal["openai", "anthropic"]
Vendor = Literal["openai", "anthropic"]

FIRST_BYTE_TIMEOUT = 0.5
"""Per attempt. Calls to the local fakes answer in milliseconds; `hang` never does."""

WORKSPACE = "routing"
TENANT = "rt"


@dataclass
class World:
    broker: ThreadedBroker
    admin: AdminClient
    token: str  # agent "router" in workspace "routing", unpinned
    openai: FakeOpenAI
    anthropic: FakeAnthropic


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> Iterator[World]:
    settings = {"DOME_FIRST_BYTE_TIMEOUT": str(FIRST_BYTE_TIMEOUT)}
    with threaded_broker(tmp_path_factory.mktemp("routing"), settings) as broker:
        admin = broker.admin
        admin.permit_all()
        token = admin.agent("router", workspace=WORKSPACE, tenant=TENANT)
        yield World(broker, admin, token, fake_openai, fake_anthropic)


@pytest.fixture(autouse=True)
def _fresh_fakes(world: World) -> None:
    world.openai.reset()
    world.anthropic.reset()


# --- setup helpers ------------------------------------------------------------------

_serial = itertools.count(1)


def entry(world: World, name: str, vendor: Vendor, behaviour: str = "ok", **fields: Any) -> str:
    """A new model entry on a fake; returns its provider model id, which is unique and
    carries `behaviour` for the fake (`refused`: nothing listens at its address)."""
    prefix = "gpt" if vendor == "openai" else "claude"
    model_id = f"{prefix}-{behaviour}-{next(_serial)}"
    fake: FakeUpstream = world.openai if vendor == "openai" else world.anthropic
    base_url = f"http://127.0.0.1:{free_port()}" if behaviour == "refused" else fake.url
    if vendor == "openai":
        base_url += "/v1"
    world.admin.model(
        name, vendor, model=model_id, base_url=base_url, credential=fake.api_key, **fields
    )
    return model_id


def pool(world: World, name: str, *members: str, strategy: str = "priority") -> None:
    """A pool taking calls for its own name only; members by priority in the order given."""
    world.admin.call(
        "POST",
        "/pools",
        {"name": name, "match_when": {"request.model": [name]}, "strategy": strategy},
    )
    for priority, member in enumerate(members):
        world.admin.call("PUT", f"/pools/{name}/members/{member}", {"priority": priority})


def sent(fake: FakeUpstream) -> list[str]:
    """The provider model ids of the calls a fake received, in order."""
    return [request.json()["model"] for request in fake.requests if request.method == "POST"]


def audited(world: World, count: int, **match: Any) -> list[dict[str, Any]]:
    """The audit records matching `match`, oldest first; exactly `count` of them."""
    deadline = time.monotonic() + 5
    while True:
        rows = [
            row
            for row in world.admin.call("GET", "/audit?limit=1000")["data"]
            if all(row.get(key) == value for key, value in match.items())
        ]
        if len(rows) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(rows) == count, rows
    return rows[::-1]


def attempts(record: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    return [(a["model"], a["outcome"], a["status"]) for a in record["attempts"] or []]


# --- calling helpers ----------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    text: str
    model: str
    input_tokens: int
    output_tokens: int


def openai_client(world: World, token: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=world.broker.url + "/v1", api_key=token or world.token, max_retries=0
    )


def anthropic_client(world: World, token: str | None = None) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=world.broker.url, api_key=token or world.token, max_retries=0
    )


def ask(
    world: World,
    sdk: Sdk,
    model: str,
    *,
    stream: bool = False,
    prompt: str = "hello",
    token: str | None = None,
    headers: dict[str, str] | None = None,
    pooled: bool = True,
) -> Answer:
    """One call through an SDK; SDK errors propagate.

    A `pooled` call's answer must name `model` as asked. The returned `model` is the
    provider model id of the member that served.
    """
    since = time.monotonic()
    answer = _ask(world, sdk, model, stream=stream, prompt=prompt, token=token, headers=headers)
    if pooled:
        assert answer.model == model, f"the answer names {answer.model!r}, not {model!r}"
    received = [
        request
        for fake in (world.openai, world.anthropic)
        for request in fake.requests
        if request.received_at >= since
    ]
    served = max(received, key=lambda request: request.received_at).json()["model"]
    return dataclasses.replace(answer, model=str(served))


def _ask(
    world: World,
    sdk: Sdk,
    model: str,
    *,
    stream: bool,
    prompt: str,
    token: str | None,
    headers: dict[str, str] | None,
) -> Answer:
    messages: Any = [{"role": "user", "content": prompt}]
    if sdk == "openai":
        with openai_client(world, token) as client:
            return _openai_answer(client, model, messages, stream=stream, headers=headers)
    message: anthropic.types.Message
    with anthropic_client(world, token) as claude:
        if stream:
            with claude.messages.stream(
                model=model, max_tokens=50, messages=messages, extra_headers=headers
            ) as events:
                message = events.get_final_message()
        else:
            message = claude.messages.create(
                model=model, max_tokens=50, messages=messages, extra_headers=headers
            )
    assert message.type == "message"  # the Anthropic shape, whoever served it
    text = "".join(block.text for block in message.content if block.type == "text")
    usage = message.usage
    return Answer(text, message.model, usage.input_tokens, usage.output_tokens)


def _openai_answer(
    client: openai.OpenAI,
    model: str,
    messages: Any,
    *,
    stream: bool,
    headers: dict[str, str] | None,
) -> Answer:
    if not stream:
        completion = client.chat.completions.create(
            model=model, messages=messages, extra_headers=headers
        )
        assert completion.object == "chat.completion"
        assert completion.usage is not None
        return Answer(
            completion.choices[0].message.content or "",
            completion.model,
            completion.usage.prompt_tokens,
            completion.usage.completion_tokens,
        )
    chunks = list(
        client.chat.completions.create(
            model=model,
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
            extra_headers=headers,
        )
    )
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    usage = chunks[-1].usage
    assert usage is not None
    return Answer(text, chunks[0].model, usage.prompt_tokens, usage.completion_tokens)


def assert_usage_is_the_answers(record: dict[str, Any], answer: Answer) -> None:
    """The audit's usage is the serving attempt's, as the agent saw it (not summed)."""
    assert (record["input_tokens"], record["output_tokens"]) == (
        answer.input_tokens,
        answer.output_tokens,
    )


# --- 1. the seed's pool ---------------------------------------------------------------


def test_the_seed_pool_serves_its_model_names_and_its_own_name(world: World) -> None:
    served = entry(world, "anthropic-prod", "anthropic")
    world.admin.call(
        "POST",
        "/pools",
        {
            "name": "cheap-reasoning",
            "match_when": {"request.model": ["claude-haiku-4-5", "gpt-5-mini"]},
        },
    )
    world.admin.call("PUT", "/pools/cheap-reasoning/members/anthropic-prod", {})

    haiku = ask(world, "anthropic", "claude-haiku-4-5", prompt="seed one")
    mini = ask(world, "openai", "gpt-5-mini", prompt="seed two")  # translated to Anthropic
    by_name = ask(world, "anthropic", "cheap-reasoning", prompt="seed three")
    assert [haiku.text, mini.text, by_name.text] == [
        "echo: seed one",
        "echo: seed two",
        "echo: seed three",
    ]
    assert haiku.model == mini.model == by_name.model == served
    assert sent(world.anthropic) == [served, served, served]
    assert world.openai.requests == []

    with pytest.raises(openai.NotFoundError) as missing:
        ask(world, "openai", "gpt-5-nano")
    assert "'gpt-5-nano' is not configured" in missing.value.message
    with pytest.raises(anthropic.NotFoundError) as missing_too:
        ask(world, "anthropic", "claude-haiku-3")
    body: Any = missing_too.value.body
    assert body["error"]["type"] == "not_found_error"
    assert len(world.anthropic.requests) == 3

    for requested in ("claude-haiku-4-5", "gpt-5-mini", "cheap-reasoning"):
        (record,) = audited(world, 1, requested_model=requested)
        assert (record["pool"], record["model_entry"], record["status"]) == (
            "cheap-reasoning",
            "anthropic-prod",
            200,
        )
        assert attempts(record) == [("anthropic-prod", "ok", 200)]
    (unmatched,) = audited(world, 1, requested_model="gpt-5-nano")
    assert (unmatched["status"], unmatched["pool"], unmatched["attempts"]) == (404, None, None)


# --- 2. priority failover and Retry-After ---------------------------------------------


def test_priority_failover_past_a_429_and_its_retry_after_is_honoured(world: World) -> None:
    limited = entry(world, "p2-limited", "openai", "error-429")
    fine = entry(world, "p2-fine", "openai")
    pool(world, "p2", "p2-limited", "p2-fine")

    first = ask(world, "openai", "p2", prompt="first")
    second = ask(world, "openai", "p2", prompt="second")  # within the 1 s Retry-After

    assert (first.text, first.model) == ("echo: first", fine)
    assert (second.text, second.model) == ("echo: second", fine)
    assert sent(world.openai) == [limited, fine, fine]
    one, two = audited(world, 2, requested_model="p2")
    assert attempts(one) == [("p2-limited", "rate_limited", 429), ("p2-fine", "ok", 200)]
    assert "trying the next candidate" in one["attempts"][0]["why"]
    assert attempts(two) == [("p2-fine", "ok", 200)]
    for record, answer in ((one, first), (two, second)):
        assert (record["status"], record["model_entry"], record["pool"]) == (200, "p2-fine", "p2")
        assert_usage_is_the_answers(record, answer)


# --- 3. what fails over ---------------------------------------------------------------

FAILURES = [
    # (id, the agent's SDK and the members' vendor, stream, behaviour, outcome, status)
    ("anthropic-529-whole", "anthropic", False, "error-529", "overloaded", 529),
    ("anthropic-529-stream", "anthropic", True, "error-529", "overloaded", 529),
    ("openai-503-stream", "openai", True, "error-529", "overloaded", 503),
    ("openai-500-whole", "openai", False, "error-500", "server_error", 500),
    ("anthropic-500-stream", "anthropic", True, "error-500", "server_error", 500),
    ("openai-refused-whole", "openai", False, "refused", "connect_error", None),
    ("anthropic-refused-stream", "anthropic", True, "refused", "connect_error", None),
    ("anthropic-hang-stream", "anthropic", True, "hang", "timeout", None),
    ("openai-hang-whole", "openai", False, "hang", "timeout", None),
]


@pytest.mark.parametrize(
    ("case", "sdk", "stream", "behaviour", "outcome", "status"),
    FAILURES,
    ids=[case[0] for case in FAILURES],
)
def test_fails_over_on_overload_server_error_refusal_and_hang(
    world: World,
    case: str,
    sdk: Sdk,
    stream: bool,
    behaviour: str,
    outcome: str,
    status: int | None,
) -> None:
    bad, good = f"{case}-bad", f"{case}-good"
    bad_id = entry(world, bad, sdk, behaviour)
    good_id = entry(world, good, sdk)
    pool(world, case, bad, good)
    fake = world.openai if sdk == "openai" else world.anthropic

    answer = ask(world, sdk, case, stream=stream, prompt=case)

    assert (answer.text, answer.model) == (f"echo: {case}", good_id)
    # A refused connection never reaches the fake; everything else did, once.
    assert sent(fake) == ([good_id] if behaviour == "refused" else [bad_id, good_id])
    (record,) = audited(world, 1, requested_model=case)
    assert attempts(record) == [(bad, outcome, status), (good, "ok", 200)]
    assert (record["status"], record["model_entry"], record["served_model"]) == (
        200,
        good,
        good_id,
    )
    assert record["stream"] is stream
    assert_usage_is_the_answers(record, answer)
    if behaviour == "hang":
        # Abandoned at the per-attempt timeout, not waited out.
        assert 0.9 * FIRST_BYTE_TIMEOUT * 1000 <= record["attempts"][0]["latency_ms"] < 5000


def test_when_every_member_fails_the_agent_gets_the_last_ones_error(world: World) -> None:
    first_id = entry(world, "p3b-first", "openai", "error-500")
    last_id = entry(world, "p3b-last", "anthropic", "error-529")
    pool(world, "p3b", "p3b-first", "p3b-last")

    with pytest.raises(openai.InternalServerError) as failed:
        ask(world, "openai", "p3b")

    # Anthropic's 529 in OpenAI's form: 503 (docs/translation.md), not the first 500.
    assert failed.value.status_code == 503
    body: Any = failed.value.body
    assert set(body) == {"message", "type", "param", "code"}
    assert (sent(world.openai), sent(world.anthropic)) == ([first_id], [last_id])
    (record,) = audited(world, 1, requested_model="p3b")
    assert attempts(record) == [("p3b-first", "server_error", 500), ("p3b-last", "overloaded", 529)]
    assert (record["status"], record["model_entry"]) == (503, "p3b-last")


# --- 4. no failover on a request error ------------------------------------------------


@pytest.mark.parametrize(
    ("sdk", "stream"),
    [("openai", False), ("anthropic", False), ("anthropic", True)],
    ids=["openai-whole", "anthropic-whole", "anthropic-stream"],
)
def test_a_400_is_the_agents_answer_and_is_not_failed_over(
    world: World, sdk: Sdk, stream: bool
) -> None:
    name = f"p4-{sdk}-{'stream' if stream else 'whole'}"
    bad_id = entry(world, f"{name}-bad", sdk, "error-400")
    entry(world, f"{name}-good", sdk)
    pool(world, name, f"{name}-bad", f"{name}-good")
    fake = world.openai if sdk == "openai" else world.anthropic

    if sdk == "openai":
        with pytest.raises(openai.BadRequestError) as refused:
            ask(world, "openai", name, stream=stream)
        body: Any = refused.value.body
        assert (body["type"], body["param"]) == ("invalid_request_error", "messages")
    else:
        with pytest.raises(anthropic.BadRequestError) as rejected:
            ask(world, "anthropic", name, stream=stream)
        body = rejected.value.body
        assert (body["type"], body["error"]["type"]) == ("error", "invalid_request_error")
        assert body["error"]["message"].startswith("messages:")

    assert sent(fake) == [bad_id]
    (record,) = audited(world, 1, requested_model=name)
    assert attempts(record) == [(f"{name}-bad", "client_error", 400)]
    assert "trying the next" not in record["attempts"][0]["why"]
    assert (record["status"], record["model_entry"]) == (400, f"{name}-bad")
    assert record["input_tokens"] is None


# --- 5. a stream cut after its first byte ---------------------------------------------


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_a_stream_cut_after_the_first_byte_raises_in_the_sdk_and_never_switches(
    world: World, sdk: Sdk
) -> None:
    name = f"p5-{sdk}"
    cut_id = entry(world, f"{name}-cut", sdk, "stream-cut")
    entry(world, f"{name}-good", sdk)
    pool(world, name, f"{name}-cut", f"{name}-good")
    fake = world.openai if sdk == "openai" else world.anthropic

    error = openai.APIError if sdk == "openai" else anthropic.APIError
    with pytest.raises(error) as broken:
        ask(world, sdk, name, stream=True, prompt="a long answer, cut")
    assert "broke off" in str(broken.value)

    assert sent(fake) == [cut_id]  # the healthy member was never asked
    (record,) = audited(world, 1, requested_model=name)
    assert attempts(record) == [(f"{name}-cut", "ok", 200)]  # it did start well
    assert (record["status"], record["error_type"], record["model_entry"]) == (
        502,
        "upstream_stream_broken",
        f"{name}-cut",
    )


# --- 6. failover across formats -------------------------------------------------------


class Cross(NamedTuple):
    case: str
    sdk: Sdk  # the agent's
    failing: Vendor  # the first member's vendor
    behaviour: str
    outcome: str
    status: int
    serving: Vendor  # the second member's vendor
    stream: bool


CROSS = [
    Cross(
        "anthropic-agent-openai-fails",
        "anthropic",
        "openai",
        "error-500",
        "server_error",
        500,
        "anthropic",
        stream=False,
    ),
    Cross(
        "anthropic-agent-openai-fails-stream",
        "anthropic",
        "openai",
        "error-500",
        "server_error",
        500,
        "anthropic",
        stream=True,
    ),
    Cross(
        "openai-agent-anthropic-fails-stream",
        "openai",
        "anthropic",
        "error-529",
        "overloaded",
        529,
        "openai",
        stream=True,
    ),
    Cross(
        "openai-agent-served-by-anthropic",
        "openai",
        "openai",
        "error-500",
        "server_error",
        500,
        "anthropic",
        stream=False,
    ),
    Cross(
        "anthropic-agent-served-by-openai-stream",
        "anthropic",
        "anthropic",
        "error-529",
        "overloaded",
        529,
        "openai",
        stream=True,
    ),
]


@pytest.mark.parametrize("cross", CROSS, ids=[cross.case for cross in CROSS])
def test_failover_across_formats_keeps_the_agents_format(world: World, cross: Cross) -> None:
    name = cross.case
    bad_id = entry(world, f"{name}-bad", cross.failing, cross.behaviour)
    good_id = entry(world, f"{name}-good", cross.serving)
    pool(world, name, f"{name}-bad", f"{name}-good")

    answer = ask(world, cross.sdk, name, stream=cross.stream, prompt=name)  # in the SDK's shape

    assert (answer.text, answer.model) == (f"echo: {name}", good_id)
    fakes: dict[str, FakeUpstream] = {"openai": world.openai, "anthropic": world.anthropic}
    if cross.failing == cross.serving:
        assert sent(fakes[cross.failing]) == [bad_id, good_id]
    else:
        assert sent(fakes[cross.failing]) == [bad_id]
        assert sent(fakes[cross.serving]) == [good_id]
    (record,) = audited(world, 1, requested_model=name)
    assert attempts(record) == [
        (f"{name}-bad", cross.outcome, cross.status),
        (f"{name}-good", "ok", 200),
    ]
    assert (record["status"], record["model_entry"], record["format_in"]) == (
        200,
        f"{name}-good",
        cross.sdk,
    )
    # The serving attempt's format, not the failed one's.
    assert record["format_out"] == cross.serving
    assert record["stream"] is cross.stream
    assert_usage_is_the_answers(record, answer)


# --- 7. region pins -------------------------------------------------------------------


@pytest.fixture(scope="module")
def pinned(world: World) -> str:
    """An agent in workspace "eu-research", pinned to region "eu"."""
    token = world.admin.agent("pinned", workspace="eu-research", tenant=TENANT)
    world.admin.call("PATCH", "/workspaces/eu-research", {"region": "eu"})
    return token


def test_a_pinned_call_fails_rather_than_leave_its_region(world: World, pinned: str) -> None:
    eu_id = entry(world, "p7-eu", "anthropic", "error-500", region="eu-west-1")
    us_id = entry(world, "p7-us", "anthropic", region="us-east-1")
    pool(world, "p7", "p7-eu", "p7-us")

    with pytest.raises(anthropic.APIStatusError) as failed:
        ask(world, "anthropic", "p7", token=pinned)
    assert failed.value.status_code == 503
    body: Any = failed.value.body
    message = body["error"]["message"]
    assert "pinned to region 'eu'" in message  # names the pin
    assert "p7-us" in message  # and what it kept out
    assert "provider answered 500" in message  # and how the region's member failed
    assert sent(world.anthropic) == [eu_id]  # never the US member

    unpinned = ask(world, "anthropic", "p7", prompt="from anywhere")
    assert (unpinned.text, unpinned.model) == ("echo: from anywhere", us_id)
    assert sent(world.anthropic) == [eu_id, eu_id, us_id]

    was_pinned, was_free = audited(world, 2, requested_model="p7")
    assert (was_pinned["agent"], was_pinned["status"]) == ("pinned", 503)
    assert attempts(was_pinned) == [("p7-eu", "server_error", 500)]
    assert was_free["agent"] == "router"
    assert attempts(was_free) == [("p7-eu", "server_error", 500), ("p7-us", "ok", 200)]


def test_a_pin_skips_members_outside_it_even_when_they_come_first(
    world: World, pinned: str
) -> None:
    us_id = entry(world, "p7b-us", "openai", region="us-east-1")
    eu_id = entry(world, "p7b-eu", "openai", region="eu-central-1")
    pool(world, "p7b", "p7b-us", "p7b-eu")

    assert ask(world, "openai", "p7b", token=pinned).model == eu_id
    assert ask(world, "openai", "p7b").model == us_id
    assert sent(world.openai) == [eu_id, us_id]
    was_pinned, was_free = audited(world, 2, requested_model="p7b")
    assert attempts(was_pinned) == [("p7b-eu", "ok", 200)]
    assert attempts(was_free) == [("p7b-us", "ok", 200)]


def test_a_pool_with_nothing_in_the_pin_is_a_clear_error(world: World, pinned: str) -> None:
    entry(world, "p7c-us", "anthropic", region="us-east-1")
    entry(world, "p7c-europe", "anthropic", region="europe")  # not "eu", nor "eu-..."
    pool(world, "p7c", "p7c-us", "p7c-europe")

    with pytest.raises(anthropic.PermissionDeniedError) as denied:
        ask(world, "anthropic", "p7c", token=pinned)
    assert "pinned to region 'eu'" in denied.value.message
    assert "pool p7c has no model in it" in denied.value.message
    with pytest.raises(openai.PermissionDeniedError) as direct:
        ask(world, "openai", "p7c-us", token=pinned)  # a direct entry too
    assert "pinned to region 'eu'" in direct.value.message
    assert world.anthropic.requests == []
    assert world.openai.requests == []
    (record,) = audited(world, 1, requested_model="p7c")
    assert (record["status"], record["agent"], record["attempts"]) == (403, "pinned", None)


# --- 8. weighted ----------------------------------------------------------------------

WEIGHTED_CALLS = 200
# Heavier-first has probability 3/4 per call, so heavy ~ Binomial(200, 0.75), mean 150:
# P(heavy <= 118) = 5.1e-7 and P(light == 0) = 0.75**200 = 1e-25, so these bounds fail
# by chance with probability < 1e-6. With the weights ignored (1/2 each) P(heavy >= 119)
# is 4e-3, so the test does catch that.
HEAVY_AT_LEAST = 119


def test_weighted_spreads_calls_by_weight(world: World) -> None:
    heavy_id = entry(world, "p8-heavy", "openai")
    light_id = entry(world, "p8-light", "openai")
    pool(world, "p8", "p8-heavy", "p8-light", strategy="weighted")
    world.admin.call("PUT", "/pools/p8/members/p8-heavy", {"priority": 0, "weight": 3})
    world.admin.call("PUT", "/pools/p8/members/p8-light", {"priority": 1, "weight": 1})

    served = [ask(world, "openai", "p8", prompt="spread").model for _ in range(WEIGHTED_CALLS)]
    heavy, light = served.count(heavy_id), served.count(light_id)
    assert heavy + light == WEIGHTED_CALLS
    assert heavy >= HEAVY_AT_LEAST
    assert light >= 1
    assert sent(world.openai) == served  # one upstream request per call, to the one serving
    records = audited(world, WEIGHTED_CALLS, requested_model="p8")
    assert [attempts(r) for r in records] == [
        [("p8-heavy" if model == heavy_id else "p8-light", "ok", 200)] for model in served
    ]


# --- 9. cost --------------------------------------------------------------------------


def test_cost_sends_to_the_cheapest_priced_member_then_by_price(world: World) -> None:
    entry(world, "p9-dear", "anthropic", input_price="15.00", output_price="75.00")
    cheap_id = entry(world, "p9-cheap", "anthropic", input_price="0.25", output_price="1.25")
    pool(world, "p9", "p9-dear", "p9-cheap", strategy="cost")  # the dear one has priority

    answer = ask(world, "anthropic", "p9", prompt="cheap please")
    assert (answer.text, answer.model) == ("echo: cheap please", cheap_id)
    assert sent(world.anthropic) == [cheap_id]
    (record,) = audited(world, 1, requested_model="p9")
    assert attempts(record) == [("p9-cheap", "ok", 200)]

    # The whole order: cheapest first, then dearer, members without a price last.
    entry(world, "p9b-unpriced", "anthropic")
    cheap_fail_id = entry(
        world, "p9b-cheap", "anthropic", "error-500", input_price="1", output_price="2"
    )
    entry(world, "p9b-dear", "anthropic", "error-529", input_price="3", output_price="4")
    pool(world, "p9b", "p9b-unpriced", "p9b-dear", "p9b-cheap", strategy="cost")
    last = ask(world, "anthropic", "p9b")
    assert last.model != cheap_fail_id
    (ordered,) = audited(world, 1, requested_model="p9b")
    assert attempts(ordered) == [
        ("p9b-cheap", "server_error", 500),
        ("p9b-dear", "overloaded", 529),
        ("p9b-unpriced", "ok", 200),
    ]


# --- 10. cascade ----------------------------------------------------------------------


def test_cascade_steps_up_on_retries_and_on_failure(world: World) -> None:
    ids = [entry(world, f"p10-{step}", "openai") for step in ("a", "b", "c")]
    pool(world, "p10", "p10-a", "p10-b", "p10-c", strategy="cascade")
    a, b, c = ids

    def served(prompt: str, headers: dict[str, str] | None = None) -> str:
        answer = ask(world, "openai", "p10", prompt=prompt, headers=headers)
        assert answer.text == f"echo: {prompt}"
        return answer.model  # the serving step's provider id, as the fake returned it

    retry = {"x-stainless-retry-count": "1"}
    assert served("question") == a  # a first call: step 1
    assert served("question", retry) == b  # the SDK's retry: one step up
    assert served("other question", retry) == b  # the header alone says so
    assert served("question") == c  # the same body a third time, no header: up again
    assert served("a new question") == a  # a new request starts at the bottom
    keyed = {"idempotency-key": "p10-key"}
    assert served("keyed once", keyed) == a
    assert served("keyed twice", keyed) == b  # a repeated Idempotency-Key
    assert sent(world.openai) == [a, b, b, c, a, a, b]
    records = audited(world, 7, requested_model="p10")
    assert [r["model_entry"] for r in records] == [
        "p10-a",
        "p10-b",
        "p10-b",
        "p10-c",
        "p10-a",
        "p10-a",
        "p10-b",
    ]
    assert all(len(r["attempts"]) == 1 for r in records)

    # An upstream failure at a step moves up within the call.
    failing_id = entry(world, "p10b-a", "openai", "error-500")
    up_id = entry(world, "p10b-b", "openai")
    pool(world, "p10b", "p10b-a", "p10b-b", strategy="cascade")
    assert ask(world, "openai", "p10b").model == up_id
    assert sent(world.openai)[-2:] == [failing_id, up_id]
    (moved,) = audited(world, 1, requested_model="p10b")
    assert attempts(moved) == [("p10b-a", "server_error", 500), ("p10b-b", "ok", 200)]


def test_a_real_sdk_retry_climbs_the_cascade(world: World) -> None:
    stuck_id = entry(world, "p10c-a", "anthropic", "hang")
    up_id = entry(world, "p10c-b", "anthropic")
    pool(world, "p10c", "p10c-a", "p10c-b", strategy="cascade")

    # The SDK gives up on step 1 before the broker would, and retries by itself,
    # sending the same body with x-stainless-retry-count: 1.
    impatient = FIRST_BYTE_TIMEOUT / 2
    with anthropic.Anthropic(
        base_url=world.broker.url, api_key=world.token, max_retries=1, timeout=impatient
    ) as claude:
        message = claude.messages.create(
            model="p10c", max_tokens=50, messages=[{"role": "user", "content": "patience"}]
        )
    assert message.model == "p10c"  # the name asked for, whichever step served
    assert sent(world.anthropic) == [stuck_id, up_id]
    gave_up, answered = audited(world, 2, requested_model="p10c")
    assert (gave_up["status"], gave_up["error_type"]) == (499, "client_disconnected")
    # The abandoned attempt reached the provider, so the audit keeps it.
    assert attempts(gave_up) == [("p10c-a", "cancelled", None)]
    assert gave_up["model_entry"] == "p10c-a"
    assert (answered["status"], answered["model_entry"]) == (200, "p10c-b")
    assert attempts(answered) == [("p10c-b", "ok", 200)]


# --- 11. circuit breaker --------------------------------------------------------------


def test_five_failures_in_a_row_open_the_circuit(world: World) -> None:
    broken_id = entry(world, "p11-broken", "anthropic", "error-500")
    healthy_id = entry(world, "p11-healthy", "anthropic")
    pool(world, "p11", "p11-broken", "p11-healthy")

    answers = [ask(world, "anthropic", "p11", prompt=f"call {n}").model for n in range(6)]

    assert answers == [healthy_id] * 6
    assert sent(world.anthropic) == [broken_id, healthy_id] * 5 + [healthy_id]
    records = audited(world, 6, requested_model="p11")
    failing_over = [("p11-broken", "server_error", 500), ("p11-healthy", "ok", 200)]
    assert [attempts(r) for r in records] == [failing_over] * 5 + [[("p11-healthy", "ok", 200)]]

    # Named directly, the member is the lone candidate: asked anyway, its own answer shown.
    with pytest.raises(anthropic.InternalServerError):
        ask(world, "anthropic", "p11-broken")
    assert sent(world.anthropic)[-1] == broken_id
    (direct,) = audited(world, 1, requested_model="p11-broken")
    assert attempts(direct) == [("p11-broken", "server_error", 500)]


def test_when_every_member_is_resting_the_call_fails_at_once(world: World) -> None:
    first_id = entry(world, "p11b-first", "anthropic", "error-429")
    second_id = entry(world, "p11b-second", "anthropic", "error-429")
    pool(world, "p11b", "p11b-first", "p11b-second")

    with pytest.raises(anthropic.RateLimitError) as limited:
        ask(world, "anthropic", "p11b")
    assert limited.value.response.headers["retry-after"] == "1"  # the last member's, relayed
    with pytest.raises(anthropic.InternalServerError) as resting:
        ask(world, "anthropic", "p11b")  # both asked to be left alone for a second

    assert resting.value.status_code == 503
    assert "p11b-first: retry-after until" in resting.value.message
    assert "p11b-second: retry-after until" in resting.value.message
    assert sent(world.anthropic) == [first_id, second_id]
    both, neither = audited(world, 2, requested_model="p11b")
    assert attempts(both) == [
        ("p11b-first", "rate_limited", 429),
        ("p11b-second", "rate_limited", 429),
    ]
    assert (both["status"], neither["status"], neither["attempts"]) == (429, 503, None)


# --- 12. policy with pools (last: it replaces the module's permit-all) ------------------


def test_a_pool_grant_covers_its_members_and_a_forbid_removes_one(world: World) -> None:
    first_id = entry(world, "p12-first", "openai")
    second_id = entry(world, "p12-second", "openai")
    outside_id = entry(world, "p12-outside", "openai")
    pool(world, "p12", "p12-first", "p12-second")
    token = world.admin.agent("granted", workspace="granted-ws", tenant=TENANT)
    world.admin.call("POST", "/rules/rollback", {"version": 0})  # default deny
    try:
        with pytest.raises(openai.PermissionDeniedError):
            ask(world, "openai", "p12", token=token)
        assert world.openai.requests == []

        world.admin.call("POST", "/rules/grant", {"workspace": "granted-ws", "pool": "p12"})
        assert ask(world, "openai", "p12", token=token).model == first_id
        # A member by its own name: a direct entry, which answers with its provider id.
        direct = ask(world, "openai", "p12-second", token=token, pooled=False)
        assert direct.model == second_id
        with pytest.raises(openai.PermissionDeniedError):
            ask(world, "openai", "p12-outside", token=token)  # not in the pool
        assert outside_id not in sent(world.openai)

        world.admin.call("POST", "/rules/block", {"workspace": "granted-ws", "model": "p12-first"})
        assert ask(world, "openai", "p12", token=token).model == second_id
        assert sent(world.openai) == [first_id, second_id, second_id]
        denied, granted, blocked = audited(world, 3, requested_model="p12")
        assert (denied["status"], denied["decision"], denied["attempts"]) == (403, "deny", None)
        assert attempts(granted) == [("p12-first", "ok", 200)]
        assert granted["policy_ids"] == ["grant.workspace.granted-ws.pool.p12"]
        assert attempts(blocked) == [("p12-second", "ok", 200)]  # the forbidden one untried
    finally:
        world.admin.call("POST", "/rules/rollback", {"version": 0})
        world.admin.permit_all()
