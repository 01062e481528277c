"""AWS Bedrock Runtime: Converse requests out; answers, streams and errors in; Claude's
InvokeModel body and stream."""

from dome.wire.bedrock.decode import (
    STOP_REASONS,
    ConverseStreamExceptionError,
    decode_converse_response,
)
from dome.wire.bedrock.errors import (
    ERROR_TYPE_HEADER,
    FAILURE_KINDS,
    exception_name,
    read_failure,
    stream_failure,
)
from dome.wire.bedrock.eventstream import EventMessage, EventStreamDecoder
from dome.wire.bedrock.invoke import (
    ANTHROPIC_VERSION,
    InvokeStreamDecoder,
    InvokeStreamTranslator,
    to_invoke_body,
)
from dome.wire.bedrock.request import (
    IMAGE_FORMATS,
    bedrock_tool_id,
    encode_converse_request,
    is_anthropic_model,
)
from dome.wire.bedrock.stream import ConverseStreamDecoder

__all__ = [
    "ANTHROPIC_VERSION",
    "ERROR_TYPE_HEADER",
    "FAILURE_KINDS",
    "IMAGE_FORMATS",
    "STOP_REASONS",
    "ConverseStreamDecoder",
    "ConverseStreamExceptionError",
    "EventMessage",
    "EventStreamDecoder",
    "InvokeStreamDecoder",
    "InvokeStreamTranslator",
    "bedrock_tool_id",
    "decode_converse_response",
    "encode_converse_request",
    "exception_name",
    "is_anthropic_model",
    "read_failure",
    "stream_failure",
    "to_invoke_body",
]
