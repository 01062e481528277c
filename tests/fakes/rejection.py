"""Why a fake upstream refuses a request: the vendor's 400, as a value.

Request checks are pure generators of `Rejection`s; the vendor fakes render the
first one in their own error format. Nothing here knows a vendor.
"""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rejection:
    """A 400 the real API would send: its message, the field it names, its code.

    `param` is the field's path in the vendor's spelling (`messages[0].role` for
    OpenAI, `messages.0.role` for Anthropic); `code` is OpenAI's `error.code`.
    """

    message: str
    param: str | None = None
    code: str | None = None


def first_rejection(rejections: Iterable[Rejection]) -> Rejection | None:
    """The first of `rejections`, or None when the request passes every check."""
    return next(iter(rejections), None)


def is_number(value: object) -> bool:
    """True for a JSON number (an int or float, but not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)
