"""Image inputs: strict base64 and `data:` URL decoding, and the echo's image notes.

Pure and vendor-neutral; the vendor checks decide which JSON paths hold images
and how a malformed one is worded in a 400.
"""

import base64
import binascii
import re
from dataclasses import dataclass

IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
"""Media types both vendors accept for inline images."""

_DATA_URL = re.compile(r"data:(?P<media_type>[^;,]*);base64,(?P<data>.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class DataUrl:
    """The parts of a `data:<media type>;base64,<data>` URL (RFC 2397)."""

    media_type: str
    data: str


def decode_base64(data: str) -> bytes | None:
    """The bytes `data` encodes (standard alphabet, padded); None if invalid or empty."""
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded or None


def parse_data_url(url: str) -> DataUrl | None:
    """`url` split into media type and base64 data, or None if it is no base64 data URL."""
    match = _DATA_URL.fullmatch(url)
    if match is None:
        return None
    return DataUrl(match["media_type"], match["data"])


def is_web_url(url: str) -> bool:
    return url.startswith(("https://", "http://")) and len(url.split("://", 1)[1]) > 0


def inline_note(media_type: str, size: int) -> str:
    """What the echo answer says about an inline image of `size` decoded bytes."""
    return f"[image {media_type} {size} bytes]"


def url_note(url: str) -> str:
    """What the echo answer says about an image given by URL."""
    return f"[image url {url}]"


def image_url_note(url: str) -> str | None:
    """The note for an image URL (`data:` or web), or None if it is neither."""
    parsed = parse_data_url(url)
    if parsed is None:
        return url_note(url) if is_web_url(url) else None
    decoded = decode_base64(parsed.data)
    return inline_note(parsed.media_type, len(decoded)) if decoded is not None else None
