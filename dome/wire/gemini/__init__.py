"""The Gemini (Vertex AI `generateContent`) wire format: requests out, answers,
streams and errors in."""

from dome.wire.gemini.decode import GenerateContentStreamDecoder, decode_generate_content
from dome.wire.gemini.errors import read_failure
from dome.wire.gemini.request import encode_generate_content

__all__ = [
    "GenerateContentStreamDecoder",
    "decode_generate_content",
    "encode_generate_content",
    "read_failure",
]
