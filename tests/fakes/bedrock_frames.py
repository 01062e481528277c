"""AWS event-stream frames (`application/vnd.amazon.eventstream`) for the fake Bedrock.

Test code only: the broker never encodes frames, and it parses them with botocore.
Layout per WIRE-FORMATS 4.4: prelude (total length, headers length, CRC32 of both),
string headers (type 7), payload, CRC32 of everything before it; big-endian.
"""

import binascii
import json
import struct
from collections.abc import Mapping

from tests.fakes.payload import JsonObject

_STRING_HEADER = 7
_PRELUDE_LENGTH = 12
_CRC_LENGTH = 4


def frame(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message with string `headers` and `payload`."""
    encoded_headers = b"".join(_header(name, value) for name, value in headers.items())
    total = _PRELUDE_LENGTH + len(encoded_headers) + len(payload) + _CRC_LENGTH
    prelude = struct.pack(">II", total, len(encoded_headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + encoded_headers + payload
    return message + struct.pack(">I", binascii.crc32(message))


def event_frame(event_type: str, payload: JsonObject) -> bytes:
    """A modelled event (`messageStart`, `contentBlockDelta`...) with a JSON payload."""
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return frame(headers, json.dumps(payload).encode())


def exception_frame(exception_type: str, message: str) -> bytes:
    """A modelled exception (`throttlingException`...) as Bedrock sends mid-stream."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return frame(headers, json.dumps({"message": message}).encode())


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", _STRING_HEADER, len(raw_value))
        + raw_value
    )
