"""Every request Anthropic can carry survives encode -> decode unchanged."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from dome.wire.anthropic import (
    decode_messages_request,
    encode_messages_request,
)
from dome.wire.canonical import (
    ImageBlock,
    Message,
    Reasoning,
    RedactedThinkingBlock,
    Request,
    ResponseFormat,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCallBlock,
    ToolChoice,
    ToolResultBlock,
)

from .anthropic_requests import (
    assistant,
    sdk_validate,
    user,
)

# round trip: every request Anthropic can carry survives encode -> decode unchanged

# The normal form: at most one leading system turn of non-empty texts; then turns
# alternating user/assistant from user, none empty, no empty text; user turns hold tool
# results first, then text and images (no `detail`); assistant turns hold signed
# thinking, redacted thinking, text and tool calls; tool call ids already in Anthropic's
# charset; arguments compact JSON objects; max_tokens set; temperature and top_p in 0-1;
# reasoning, if any, a stated budget of at least 1024 below max_tokens (then temperature
# unset or 1, top_p unset or >= 0.95, no top_k, tool_choice auto/none/unset, and the
# last assistant turn, if it calls tools, starts with thinking); tool_choice only with tools; parallel_tool_calls unset, or False with an auto/any/tool choice;
# response_format json_schema without name or strict; include_usage False.

TEXT = st.text(min_size=1, max_size=20)
IDS = st.from_regex(r"[a-zA-Z0-9_-]{1,12}", fullmatch=True)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
ARGUMENTS = st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=3).map(
    lambda value: orjson.dumps(value).decode()
)
IMAGES = st.one_of(
    st.builds(
        ImageBlock, url=st.from_regex(r"https://[a-z]{1,8}\.test/[a-z]{0,8}", fullmatch=True)
    ),
    st.builds(
        ImageBlock,
        data=st.from_regex(r"[A-Za-z0-9+/]{4,16}={0,2}", fullmatch=True),
        media_type=st.sampled_from(["image/jpeg", "image/png", "image/gif", "image/webp"]),
    ),
)
TEXT_BLOCKS = st.builds(TextBlock, TEXT)
TOOL_RESULTS = st.builds(
    ToolResultBlock,
    tool_call_id=IDS,
    content=st.lists(TEXT_BLOCKS | IMAGES, max_size=2).map(tuple),
    is_error=st.booleans(),
)
ASSISTANT_BLOCKS = st.one_of(
    TEXT_BLOCKS,
    st.builds(ToolCallBlock, id=IDS, name=TEXT, arguments=ARGUMENTS),
    st.builds(ThinkingBlock, text=st.text(max_size=20), signature=TEXT),
    st.builds(RedactedThinkingBlock, TEXT),
)


@st.composite
def _user_turns(draw: st.DrawFn) -> Message:
    results = draw(st.lists(TOOL_RESULTS, max_size=2))
    rest = draw(st.lists(TEXT_BLOCKS | IMAGES, min_size=0 if results else 1, max_size=2))
    return user(*results, *rest)


ASSISTANT_TURNS = st.lists(ASSISTANT_BLOCKS, min_size=1, max_size=3).map(lambda b: assistant(*b))
TOOLS = st.builds(
    Tool,
    name=TEXT,
    parameters=st.fixed_dictionaries(
        {"type": st.just("object")},
        optional={
            "properties": st.dictionaries(
                st.text(max_size=5), st.just({"type": "string"}), max_size=2
            )
        },
    ),
    description=st.none() | TEXT,
    strict=st.none() | st.booleans(),
)


def _thinking_first_in_the_last_tool_loop(messages: list[Message]) -> list[Message]:
    """With thinking on, Anthropic needs the last assistant turn's tool calls to follow
    its thinking block; without it the encoder turns thinking off (not a round trip)."""
    last = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=None)
    if last is None:
        return messages
    content = messages[last].content
    calls = any(isinstance(block, ToolCallBlock) for block in content)
    if not calls or isinstance(content[0], ThinkingBlock | RedactedThinkingBlock):
        return messages
    thought = assistant(ThinkingBlock("thought", "signature"), *content)
    return [*messages[:last], thought, *messages[last + 1 :]]


@st.composite
def _carriable_requests(draw: st.DrawFn) -> Request:
    messages: list[Message] = []
    if draw(st.booleans()):
        messages.append(
            Message("system", tuple(draw(st.lists(TEXT_BLOCKS, min_size=1, max_size=2))))
        )
    turns = range(draw(st.integers(1, 5)))
    messages.extend(draw(_user_turns() if turn % 2 == 0 else ASSISTANT_TURNS) for turn in turns)
    thinking = draw(st.booleans())
    if thinking:
        messages = _thinking_first_in_the_last_tool_loop(messages)
    max_tokens = draw(st.integers(1025 if thinking else 1, 64000))
    reasoning = (
        Reasoning(budget_tokens=draw(st.integers(1024, max_tokens - 1))) if thinking else None
    )
    tools = tuple(draw(st.lists(TOOLS, max_size=2)))
    tool_choice = None
    if tools:
        choices = [ToolChoice("auto"), ToolChoice("none")]
        if not thinking:
            choices += [ToolChoice("any"), ToolChoice("tool", tools[0].name)]
        tool_choice = draw(st.none() | st.sampled_from(choices))
    forcing = tool_choice is not None and tool_choice.mode != "none"
    return Request(
        model=draw(TEXT),
        messages=tuple(messages),
        max_tokens=max_tokens,
        temperature=draw(st.none() | (st.just(1.0) if thinking else st.floats(0, 1))),
        top_p=draw(st.none() | st.floats(0.95 if thinking else 0, 1)),
        top_k=None if thinking else draw(st.none() | st.integers(0, 500)),
        stop=tuple(draw(st.lists(TEXT, max_size=3))),
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=draw(st.sampled_from([None, False])) if forcing else None,
        response_format=draw(
            st.none()
            | st.builds(
                ResponseFormat,
                kind=st.just("json_schema"),
                schema=st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=3),
            )
        ),
        reasoning=reasoning,
        user=draw(st.none() | TEXT),
        stream=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(_carriable_requests())
def test_carriable_requests_survive_encode_then_decode(request: Request) -> None:
    body = encode_messages_request(request, request.model, default_max_tokens=4096)
    sdk_validate(body)
    assert decode_messages_request(orjson.loads(orjson.dumps(body))) == request
