"""The Anthropic Messages wire format: requests, answers and streams both ways, errors."""

from dome.wire.anthropic.decode import MessageStreamDecoder, decode_message
from dome.wire.anthropic.defaults import default_max_tokens
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
    read_failure,
    render_failure,
    stream_error_event,
)
from dome.wire.anthropic.read import digest_messages_request
from dome.wire.anthropic.request import decode_messages_request
from dome.wire.anthropic.request_encode import encode_messages_request
from dome.wire.anthropic.request_fields import (
    ACCEPTED_NESTED_FIELDS,
    ACCEPTED_NOT_CARRIED,
    CARRIED_BLOCK_TYPES,
    CARRIED_FIELDS,
    UNSUPPORTED_BLOCK_TYPES,
    UNSUPPORTED_FIELDS,
)
from dome.wire.anthropic.tool_ids import anthropic_tool_id

__all__ = [
    "ACCEPTED_NESTED_FIELDS",
    "ACCEPTED_NOT_CARRIED",
    "CARRIED_BLOCK_TYPES",
    "CARRIED_FIELDS",
    "UNSUPPORTED_BLOCK_TYPES",
    "UNSUPPORTED_FIELDS",
    "MessageJSON",
    "MessageStreamDecoder",
    "MessageStreamEncoder",
    "anthropic_error_type",
    "anthropic_tool_id",
    "decode_message",
    "decode_messages_request",
    "default_max_tokens",
    "digest_messages_request",
    "encode_block",
    "encode_message",
    "encode_messages_request",
    "encode_usage",
    "error_body",
    "read_failure",
    "render_failure",
    "stream_error_event",
    "tool_input",
]
