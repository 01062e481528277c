"""Converse answers and Bedrock error answers to the canonical form."""

from __future__ import annotations

import json

import pytest

from dome.errors import UpstreamUnavailableError
from dome.wire.bedrock import decode_converse_response, exception_name, read_failure
from dome.wire.canonical import (
    RedactedThinkingBlock,
    Response,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    Usage,
)

SPEC_RESPONSE = {
    "output": {
        "message": {
            "role": "assistant",
            "content": [
                {"text": "Let me check."},
                {
                    "toolUse": {
                        "toolUseId": "tooluse_kZJMlvQm",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    }
                },
            ],
        }
    },
    "stopReason": "tool_use",
    "usage": {
        "inputTokens": 412,
        "outputTokens": 61,
        "totalTokens": 2273,
        "cacheReadInputTokens": 1800,
        "cacheWriteInputTokens": 0,
    },
    "metrics": {"latencyMs": 1532},
    "additionalModelResponseFields": {"stop_sequence": None},
}


def _decode(body: object) -> Response:
    return decode_converse_response(json.dumps(body).encode(), response_id="rid", model="m")


def test_spec_response() -> None:
    assert _decode(SPEC_RESPONSE) == Response(
        id="rid",
        model="m",
        content=(
            TextBlock("Let me check."),
            ToolCallBlock("tooluse_kZJMlvQm", "get_weather", '{"city":"Paris"}'),
        ),
        stop_reason="tool_use",
        usage=Usage(input_tokens=412, output_tokens=61, cache_read_tokens=1800),
    )


def test_reasoning_blocks_and_stop_sequence() -> None:
    body = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig"}}},
                    {"reasoningContent": {"reasoningText": {"text": "unsigned"}}},
                    {"reasoningContent": {"redactedContent": "AAE="}},
                    {"text": "done"},
                ],
            }
        },
        "stopReason": "stop_sequence",
        "usage": {"inputTokens": 3, "outputTokens": 4, "cacheWriteInputTokens": 7},
        "additionalModelResponseFields": {"stop_sequence": "END"},
    }

    response = _decode(body)

    assert response.content == (
        ThinkingBlock("think", "sig"),
        ThinkingBlock("unsigned", ""),
        RedactedThinkingBlock("AAE="),
        TextBlock("done"),
    )
    assert response.stop_sequence == "END"
    assert response.usage == Usage(input_tokens=3, output_tokens=4, cache_write_tokens=7)


@pytest.mark.parametrize(
    ("bedrock", "canonical"),
    [
        ("end_turn", "end_turn"),
        ("stop_sequence", "stop_sequence"),
        ("tool_use", "tool_use"),
        ("max_tokens", "max_tokens"),
        ("model_context_window_exceeded", "model_context_window_exceeded"),
        ("guardrail_intervened", "refusal"),
        ("content_filtered", "refusal"),
        ("malformed_model_output", "end_turn"),
        ("malformed_tool_use", "end_turn"),
    ],
)
def test_stop_reasons(bedrock: str, canonical: str) -> None:
    assert _decode({**SPEC_RESPONSE, "stopReason": bedrock}).stop_reason == canonical


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({**SPEC_RESPONSE, "stopReason": "tea_time"}, "unknown stop reason"),
        ({**SPEC_RESPONSE, "output": {}}, "output.message"),
        ({**SPEC_RESPONSE, "usage": {"inputTokens": -1}}, "inputTokens"),
        (
            {**SPEC_RESPONSE, "output": {"message": {"content": [{"citationsContent": {}}]}}},
            "citationsContent block",
        ),
        ([1, 2], "expected an object"),
    ],
)
def test_malformed_responses_are_upstream_errors(body: object, problem: str) -> None:
    with pytest.raises(UpstreamUnavailableError, match=problem):
        _decode(body)


def test_invalid_json_is_an_upstream_error() -> None:
    with pytest.raises(UpstreamUnavailableError, match="invalid JSON"):
        decode_converse_response(b"{nope", response_id="", model="")


@pytest.mark.parametrize(
    ("status", "header", "kind"),
    [
        (
            400,
            "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "invalid_request",
        ),
        (400, "ServiceQuotaExceededException", "rate_limit"),
        (403, "AccessDeniedException", "permission"),
        (403, "UnrecognizedClientException", "authentication"),
        (403, "InvalidSignatureException", "authentication"),
        (404, "ResourceNotFoundException", "not_found"),
        (408, "ModelTimeoutException", "timeout"),
        (429, "ThrottlingException", "rate_limit"),
        (429, "ModelNotReadyException", "overloaded"),
        (424, "ModelErrorException", "server"),
        (500, "InternalServerException", "server"),
        (503, "ServiceUnavailableException", "overloaded"),
    ],
)
def test_errors_are_classified_by_exception_name(status: int, header: str, kind: str) -> None:
    failure = read_failure(status, b'{"message": "what happened"}', header)

    assert failure.kind == kind
    assert failure.message == "what happened"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request"),
        (403, "permission"),
        (404, "not_found"),
        (424, "server"),
        (429, "rate_limit"),
        (502, "server"),
        (503, "overloaded"),
        (504, "timeout"),
        (418, "invalid_request"),
    ],
)
def test_errors_without_a_name_are_classified_by_status(status: int, kind: str) -> None:
    failure = read_failure(status, b"<html>gateway</html>")

    assert failure.kind == kind
    assert failure.message == f"the provider answered HTTP {status}"


def test_body_type_and_capitalized_message_are_read() -> None:
    body = b'{"__type": "com.amazon.bedrock#ThrottlingException", "Message": "slow down"}'

    assert read_failure(400, body) == read_failure(
        429, b'{"message": "slow down"}', "ThrottlingException"
    )
    assert read_failure(400, body).kind == "rate_limit"


def test_the_header_wins_over_the_status() -> None:
    assert read_failure(400, b"{}", "ThrottlingException").kind == "rate_limit"
    assert read_failure(400, b"{}", "ThrottlingException").message == (
        "the provider answered HTTP 400 (ThrottlingException)"
    )


def test_too_long_prompts_are_context_length_failures() -> None:
    body = b'{"message": "Input is too long for requested model."}'

    assert read_failure(400, body, "ValidationException").kind == "context_length"
    assert (
        read_failure(400, b'{"message": "bad field"}', "ValidationException").kind
        == "invalid_request"
    )


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("ThrottlingException:http://internal.amazon.com/x", "ThrottlingException"),
        ("ValidationException", "ValidationException"),
        ("", None),
        (None, None),
    ],
)
def test_exception_name_is_the_part_before_the_colon(header: str | None, name: str | None) -> None:
    assert exception_name(header) == name
