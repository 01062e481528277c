"""The Anthropic Messages wire format: encoding, request reading, error bodies."""

from dome.wire.anthropic.encode import (
    MessageJSON,
    MessageStreamEncoder,
    encode_block,
    encode_message,
    encode_usage,
    tool_input,
)
from dome.wire.anthropic.errors import (
    anthropic_error_type,
    error_body,
    stream_error_event,
)
from dome.wire.anthropic.read import digest_messages_request

__all__ = [
    "MessageJSON",
    "MessageStreamEncoder",
    "anthropic_error_type",
    "digest_messages_request",
    "encode_block",
    "encode_message",
    "encode_usage",
    "error_body",
    "stream_error_event",
    "tool_input",
]
