"""The OpenAI Chat Completions wire format: requests, answers and streams to and from
canonical form, request reading, error bodies."""

from dome.wire.openai.decode import ChatStreamDecoder, decode_chat_completion, decode_usage
from dome.wire.openai.encode import (
    FINISH_REASONS,
    ChatCompletionJSON,
    ChatStreamEncoder,
    FinishReason,
    encode_chat_completion,
    encode_usage,
)
from dome.wire.openai.errors import (
    error_body,
    openai_error_type,
    read_failure,
    render_failure,
    stream_error_event,
)
from dome.wire.openai.fields import (
    CARRIED_FIELDS,
    IGNORED_FIELDS,
    UNSUPPORTED_FIELDS,
    Untranslatable,
)
from dome.wire.openai.read import digest_chat_request
from dome.wire.openai.request import decode_chat_request, encode_chat_request

__all__ = [
    "CARRIED_FIELDS",
    "FINISH_REASONS",
    "IGNORED_FIELDS",
    "UNSUPPORTED_FIELDS",
    "ChatCompletionJSON",
    "ChatStreamDecoder",
    "ChatStreamEncoder",
    "FinishReason",
    "Untranslatable",
    "decode_chat_completion",
    "decode_chat_request",
    "decode_usage",
    "digest_chat_request",
    "encode_chat_completion",
    "encode_chat_request",
    "encode_usage",
    "error_body",
    "openai_error_type",
    "read_failure",
    "render_failure",
    "stream_error_event",
]
