"""Every request OpenAI chat carries survives encode -> decode unchanged."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dome.wire.canonical import (
    ImageBlock,
    Message,
    Reasoning,
    ReasoningEffort,
    Request,
    ResponseFormat,
    TextBlock,
    Tool,
    ToolCallBlock,
    ToolChoice,
    ToolResultBlock,
)
from dome.wire.openai import (
    decode_chat_request,
    encode_chat_request,
)

from .openai_requests import (
    on_the_wire,
)

# --- round trips ------------------------------------------------------------------
#
# The normal form OpenAI carries without loss, which the strategies below generate:
# no top_k; at most 4 stop sequences; tool_choice and parallel_tool_calls only beside
# tools; include_usage equal to stream; a reasoning effort, never a bare budget;
# json_schema formats with a name; system turns of text; user turns either of text
# and images or of exactly one tool result of text (not an error); assistant turns of
# non-empty texts then tool calls with non-empty arguments, and no thinking.

_TEXT = st.text(max_size=12)
_NAME = st.from_regex(r"[a-zA-Z0-9_-]{1,16}", fullmatch=True)
_SCHEMA = st.dictionaries(
    _NAME, st.sampled_from([{"type": "string"}, {"type": "integer"}]), max_size=3
).map(lambda props: {"type": "object", "properties": props})
_TEXTS = st.lists(_TEXT.map(TextBlock), min_size=1, max_size=3).map(tuple)
_IMAGE = st.one_of(
    st.builds(
        ImageBlock,
        url=st.from_regex(r"https://[a-z]{1,8}\.test/[a-z]{0,8}", fullmatch=True),
        detail=st.sampled_from([None, "auto", "low", "high"]),
    ),
    st.builds(
        ImageBlock,
        data=st.from_regex(r"[A-Za-z0-9+/]{0,16}={0,2}", fullmatch=True),
        media_type=st.sampled_from(["image/png", "image/jpeg", "image/webp"]),
        detail=st.sampled_from([None, "high"]),
    ),
)
_CALL = st.builds(ToolCallBlock, id=_NAME, name=_NAME, arguments=st.text(min_size=1, max_size=12))
_MESSAGE = st.one_of(
    _TEXTS.map(lambda texts: Message("system", texts)),
    st.lists(st.one_of(_TEXT.map(TextBlock), _IMAGE), min_size=1, max_size=3).map(
        lambda blocks: Message("user", tuple(blocks))
    ),
    st.builds(ToolResultBlock, tool_call_id=_NAME, content=_TEXTS).map(
        lambda result: Message("user", (result,))
    ),
    st.tuples(
        st.lists(st.text(min_size=1, max_size=12).map(TextBlock), max_size=2),
        st.lists(_CALL, max_size=3),
    ).map(lambda parts: Message("assistant", (*parts[0], *parts[1]))),
)
_EFFORTS: list[ReasoningEffort] = ["none", "minimal", "low", "medium", "high", "xhigh"]
_FORMAT = st.one_of(
    st.none(),
    st.just(ResponseFormat("json_object")),
    st.builds(
        ResponseFormat,
        kind=st.just("json_schema"),
        schema=st.one_of(st.none(), _SCHEMA),
        name=_NAME,
        strict=st.one_of(st.none(), st.booleans()),
    ),
)
_TOOL = st.builds(
    Tool,
    name=_NAME,
    parameters=_SCHEMA,
    description=st.one_of(st.none(), _TEXT),
    strict=st.one_of(st.none(), st.booleans()),
)
_CHOICE = st.one_of(
    st.none(),
    st.sampled_from([ToolChoice("auto"), ToolChoice("any"), ToolChoice("none")]),
    _NAME.map(lambda name: ToolChoice("tool", name)),
)


@st.composite
def carriable_requests(draw: st.DrawFn) -> Request:
    tools = tuple(draw(st.lists(_TOOL, max_size=3)))
    stream = draw(st.booleans())
    return Request(
        model=draw(_NAME),
        messages=tuple(draw(st.lists(_MESSAGE, min_size=1, max_size=6))),
        max_tokens=draw(st.one_of(st.none(), st.integers(0, 200_000))),
        temperature=draw(st.one_of(st.none(), st.floats(0, 2))),
        top_p=draw(st.one_of(st.none(), st.floats(0, 1))),
        stop=tuple(draw(st.lists(_TEXT, max_size=4))),
        tools=tools,
        tool_choice=draw(_CHOICE) if tools else None,
        parallel_tool_calls=draw(st.one_of(st.none(), st.booleans())) if tools else None,
        response_format=draw(_FORMAT),
        reasoning=draw(st.one_of(st.none(), st.sampled_from(_EFFORTS).map(Reasoning))),
        user=draw(st.one_of(st.none(), _TEXT)),
        stream=stream,
        include_usage=stream,
    )


@settings(max_examples=300)
@given(carriable_requests())
def test_encode_then_decode_is_identity_for_what_openai_carries(request: Request) -> None:
    assert decode_chat_request(on_the_wire(encode_chat_request(request, request.model))) == request


@settings(max_examples=100)
@given(carriable_requests())
def test_decode_then_encode_is_identity_on_encoded_bodies(request: Request) -> None:
    body = on_the_wire(encode_chat_request(request, request.model))
    assert on_the_wire(encode_chat_request(decode_chat_request(body), request.model)) == body
