"""The OpenAI Chat Completions wire format: encoding, request reading, error bodies."""

from dome.wire.openai.encode import (
    FINISH_REASONS,
    ChatCompletionJSON,
    ChatStreamEncoder,
    FinishReason,
    encode_chat_completion,
    encode_usage,
)
from dome.wire.openai.errors import error_body, openai_error_type, stream_error_event
from dome.wire.openai.read import digest_chat_request

__all__ = [
    "FINISH_REASONS",
    "ChatCompletionJSON",
    "ChatStreamEncoder",
    "FinishReason",
    "digest_chat_request",
    "encode_chat_completion",
    "encode_usage",
    "error_body",
    "openai_error_type",
    "stream_error_event",
]
