"""Gemini answers, whole or streamed (`streamGenerateContent?alt=sse`), to canonical form.

Pure, sans I/O. `decode_generate_content` reads one `GenerateContentResponse`
(WIRE-FORMATS 5.3); `GenerateContentStreamDecoder` takes SSE bytes in any split, each
`data:` being one response chunk with only the new parts (WIRE-FORMATS 5.4).

Decisions:
* `thought: true` parts are thinking; text parts are text; adjacent parts of one kind
  join into one block (a stream splits a block across chunks).
* Gemini signs parts, not blocks: a `thoughtSignature` on a text or functionCall part
  becomes an empty `ThinkingBlock` holding only the signature, just before that part's
  block, so a client sending the turn back returns it (`request` puts it back on
  the part). On a thought part it is that block's signature.
* A functionCall arrives whole: one tool block, its arguments in a single delta. Its
  id is Gemini's when given, else `call_<responseId>_<n>`.
* The stream has no end event: the chunk carrying `finishReason` is the last one, and
  it ends the canonical stream (MessageDelta, MessageStop). `usageMetadata` is
  cumulative: the latest one counts. An `{"error": ...}` chunk raises.
* No candidate but `promptFeedback.blockReason`: the prompt was blocked, a refusal
  with no content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dome.errors import UpstreamStreamError, UpstreamUnavailableError
from dome.wire.canonical import (
    BlockStart,
    BlockStop,
    ContentBlock,
    MessageDelta,
    MessageStart,
    MessageStop,
    Response,
    SignatureDelta,
    StopReason,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolArgumentsDelta,
    ToolCallBlock,
    Usage,
)
from dome.wire.gemini.answer import (
    MalformedError,
    PartFacts,
    answer_id,
    call_id,
    candidate_parts,
    error_text,
    first_candidate,
    model_version,
    parse_json,
    part_facts,
    stop_reason,
    usage,
)
from dome.wire.sse import SseDecoder


def decode_generate_content(body: bytes) -> Response:
    """The canonical answer of a `generateContent` body.

    Raises:
        UpstreamUnavailableError: the body is not a well-formed answer.
    """
    try:
        return _response(parse_json(body))
    except MalformedError as exc:
        message = f"the provider answered with a malformed GenerateContentResponse: {exc}"
        raise UpstreamUnavailableError(message) from exc


def _response(answer: Mapping[str, Any]) -> Response:
    response_id = answer_id(answer)
    candidate = first_candidate(answer)
    if candidate is None:
        if _is_blocked(answer):
            return Response(response_id, model_version(answer), (), "refusal", usage_of(answer))
        raise MalformedError("no candidates and no promptFeedback.blockReason")
    blocks: list[ContentBlock] = []
    calls = 0
    for part in candidate_parts(candidate):
        facts = part_facts(part, call_id(response_id, calls))
        if facts is None:
            continue
        calls += facts.kind == "call"
        _append(blocks, facts)
    reason = stop_reason(candidate.get("finishReason", "STOP"), has_calls=calls > 0)
    return Response(response_id, model_version(answer), tuple(blocks), reason, usage_of(answer))


def usage_of(answer: Mapping[str, Any]) -> Usage:
    return usage(answer.get("usageMetadata"))


def _is_blocked(answer: Mapping[str, Any]) -> bool:
    feedback = answer.get("promptFeedback")
    return isinstance(feedback, dict) and isinstance(feedback.get("blockReason"), str)


def _append(blocks: list[ContentBlock], facts: PartFacts) -> None:
    if facts.signature and facts.kind != "thought":
        blocks.append(ThinkingBlock("", facts.signature))
    last = blocks[-1] if blocks else None
    if facts.kind == "call":
        blocks.append(ToolCallBlock(facts.call_id, facts.call_name, facts.text))
    elif facts.kind == "thought":
        if isinstance(last, ThinkingBlock) and last.text and not last.signature:
            blocks[-1] = ThinkingBlock(last.text + facts.text, facts.signature)
        else:
            blocks.append(ThinkingBlock(facts.text, facts.signature))
    elif isinstance(last, TextBlock):
        blocks[-1] = TextBlock(last.text + facts.text)
    elif facts.text:
        blocks.append(TextBlock(facts.text))


class GenerateContentStreamDecoder:
    """`alt=sse` bytes in, canonical events out; `complete` once `finishReason` came."""

    __slots__ = ("_calls", "_id", "_index", "_open", "_signed", "_sse", "_usage", "complete")

    def __init__(self) -> None:
        self._sse = SseDecoder()
        self._id: str | None = None
        self._index = -1  # index of the latest block opened
        self._open: str | None = None  # kind of the open block: "text", "thought"
        self._signed = False  # the open thought block has its signature
        self._calls = 0
        self._usage = Usage()
        self.complete = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """The events completed by `chunk`.

        Raises:
            UpstreamStreamError: an error chunk, invalid JSON or a malformed chunk.
        """
        events: list[StreamEvent] = []
        for sse in self._sse.feed(chunk):
            if self.complete:
                continue  # nothing follows the final chunk; ignore what does
            try:
                events.extend(self._chunk(parse_json(sse.data)))
            except MalformedError as exc:
                message = f"the provider's stream is malformed: {exc}"
                raise UpstreamStreamError(message) from exc
        return events

    def _chunk(self, answer: Mapping[str, Any]) -> list[StreamEvent]:
        failure = error_text(answer)
        if failure is not None:
            message = f"the provider's stream failed: {failure}"
            raise UpstreamStreamError(message)
        events: list[StreamEvent] = []
        if self._id is None:
            self._id = answer_id(answer)
            self._usage = usage_of(answer)
            events.append(MessageStart(self._id, model_version(answer), self._usage))
        elif "usageMetadata" in answer:
            self._usage = usage_of(answer)
        candidate = first_candidate(answer)
        if candidate is None:
            if _is_blocked(answer):
                events.extend(self._finish("refusal"))
            return events
        for part in candidate_parts(candidate):
            facts = part_facts(part, call_id(self._id, self._calls))
            if facts is not None:
                events.extend(self._part(facts))
        reason = candidate.get("finishReason")
        if reason is not None:
            events.extend(self._finish(stop_reason(reason, has_calls=self._calls > 0)))
        return events

    def _part(self, facts: PartFacts) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if facts.signature and facts.kind != "thought":
            events.extend(self._close())
            events.extend(self._open_block(ThinkingBlock("")))
            events.append(SignatureDelta(self._index, facts.signature))
            events.extend(self._close())
        if facts.kind == "call":
            self._calls += 1
            events.extend(self._close())
            events.extend(self._open_block(ToolCallBlock(facts.call_id, facts.call_name, "")))
            events.append(ToolArgumentsDelta(self._index, facts.text))
            events.extend(self._close())
        elif facts.kind == "thought":
            if self._open != "thought" or self._signed:
                events.extend(self._close())
                events.extend(self._open_block(ThinkingBlock(""), "thought"))
            if facts.text:
                events.append(ThinkingDelta(self._index, facts.text))
            if facts.signature:
                events.append(SignatureDelta(self._index, facts.signature))
                self._signed = True
        elif facts.text:
            if self._open != "text":
                events.extend(self._close())
                events.extend(self._open_block(TextBlock(""), "text"))
            events.append(TextDelta(self._index, facts.text))
        return events

    def _open_block(self, block: ContentBlock, kind: str | None = None) -> list[StreamEvent]:
        self._index += 1
        self._open = kind or "other"
        self._signed = False
        return [BlockStart(self._index, block)]

    def _close(self) -> list[StreamEvent]:
        if self._open is None:
            return []
        self._open = None
        return [BlockStop(self._index)]

    def _finish(self, reason: StopReason) -> list[StreamEvent]:
        self.complete = True
        return [*self._close(), MessageDelta(reason, self._usage), MessageStop()]
