"""What the real OpenAI API refuses in `messages`: roles, parts, images, tool-call pairing.

Pure generators of `Rejection`s (WIRE-FORMATS.md section 2.2); paths use the
API's `messages[1].tool_calls[0].function.arguments` spelling.
"""

from collections.abc import Iterator

from tests.fakes.images import IMAGE_MEDIA_TYPES, decode_base64, is_web_url, parse_data_url
from tests.fakes.payload import JsonObject, as_object, list_field, objects_in, str_field
from tests.fakes.rejection import Rejection

ROLES = ("system", "developer", "user", "assistant", "tool")
PART_TYPES: dict[str, tuple[str, ...]] = {
    "system": ("text",),
    "developer": ("text",),
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal"),
    "tool": ("text",),
}
"""Content part types each role may send."""

IMAGE_DETAILS = ("auto", "low", "high", "original")

_JSON_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a decimal"),
    (str, "a string"),
    (list, "an array"),
    (dict, "an object"),
)


def supported_values(values: tuple[str, ...]) -> str:
    """`'a', 'b', and 'c'`, as the API lists allowed values."""
    quoted = [f"'{value}'" for value in values]
    return f"{', '.join(quoted[:-1])}, and {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def json_kind(value: object) -> str:
    """How the API names a JSON value's type in `Invalid type` messages."""
    return next((name for kind, name in _JSON_KINDS if isinstance(value, kind)), "null")


def _invalid_type(path: str, expected: str, value: object) -> Rejection:
    message = f"Invalid type for '{path}': expected {expected}, but got {json_kind(value)} instead."
    return Rejection(message, path, "invalid_type")


def _missing(path: str) -> Rejection:
    return Rejection(f"Missing required parameter: '{path}'.", path, "missing_required_parameter")


def conversation_rejections(messages: list[object]) -> Iterator[Rejection]:
    """Everything the API refuses in `messages`, message by message, then the pairing."""
    for index, message in enumerate(messages):
        path = f"messages[{index}]"
        if isinstance(message, dict):
            yield from _message_rejections(path, as_object(message))
        else:
            yield _invalid_type(path, "an object", message)
    yield from _pairing_rejections(objects_in(messages))


def _message_rejections(path: str, message: JsonObject) -> Iterator[Rejection]:
    role = message.get("role")
    if not isinstance(role, str) or role not in ROLES:
        text = f"Invalid value: '{role}'. Supported values are: {supported_values(ROLES)}."
        yield Rejection(text, f"{path}.role", "invalid_value")
        return
    yield from _content_rejections(path, role, message)
    if role == "assistant":
        yield from _tool_call_rejections(path, message.get("tool_calls"))
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        yield _missing(f"{path}.tool_call_id")


def _content_rejections(path: str, role: str, message: JsonObject) -> Iterator[Rejection]:
    # Content is a string or a list of parts; only assistant turns may omit it.
    content = message.get("content")
    if isinstance(content, str) or (content is None and role == "assistant"):
        return
    if not isinstance(content, list):
        yield _invalid_type(f"{path}.content", "a string or an array", content)
        return
    for position, part in enumerate(content):
        yield from _part_rejections(f"{path}.content[{position}]", role, as_object(part))


def _part_rejections(path: str, role: str, part: JsonObject) -> Iterator[Rejection]:
    kind = part.get("type")
    allowed = PART_TYPES[role]
    if kind == "image_url" and role != "user":
        message = (
            "Image URLs are only allowed for messages with role 'user', but this "
            f"message with role '{role}' contains an image URL."
        )
        yield Rejection(message, f"{path}.type", "invalid_value")
    elif not isinstance(kind, str) or kind not in allowed:
        message = f"Invalid value: '{kind}'. Supported values are: {supported_values(allowed)}."
        yield Rejection(message, f"{path}.type", "invalid_value")
    elif kind == "text" and not isinstance(part.get("text"), str):
        yield _missing(f"{path}.text")
    elif kind == "image_url":
        yield from _image_part_rejections(path, part)


def _image_part_rejections(path: str, part: JsonObject) -> Iterator[Rejection]:
    image = as_object(part.get("image_url"))
    url = image.get("url")
    url_path = f"{path}.image_url.url"
    if not isinstance(url, str):
        yield _missing(url_path)
        return
    detail = image.get("detail")
    if detail is not None and detail not in IMAGE_DETAILS:
        message = (
            f"Invalid value: '{detail}'. Supported values are: {supported_values(IMAGE_DETAILS)}."
        )
        yield Rejection(message, f"{path}.image_url.detail", "invalid_value")
    yield from _image_url_rejections(url, url_path)


def _image_url_rejections(url: str, path: str) -> Iterator[Rejection]:
    # An http(s) URL or a base64 `data:` URL of an image type (section 2.2).
    if not url.startswith("data:"):
        if not is_web_url(url):
            message = (
                f"Invalid '{path}'. Expected a valid URL, but got a value with an invalid format."
            )
            yield Rejection(message, path, "invalid_value")
        return
    expected = (
        f"Invalid '{path}'. Expected a base64-encoded data URL with an image MIME type "
        "(e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got"
    )
    parsed = parse_data_url(url)
    if parsed is None:
        yield Rejection(f"{expected} a value with an invalid format.", path, "invalid_value")
    elif parsed.media_type not in IMAGE_MEDIA_TYPES:
        message = f"{expected} unsupported MIME type '{parsed.media_type}'."
        yield Rejection(message, path, "invalid_value")
    elif decode_base64(parsed.data) is None:
        yield Rejection(f"{expected} invalid base64 data.", path, "invalid_image_format")


def _tool_call_rejections(path: str, tool_calls: object) -> Iterator[Rejection]:
    if tool_calls is None:
        return
    if not isinstance(tool_calls, list):
        yield _invalid_type(f"{path}.tool_calls", "an array", tool_calls)
        return
    for position, call in enumerate(tool_calls):
        call_path = f"{path}.tool_calls[{position}]"
        spec = as_object(call)
        function = spec.get("function")
        if not isinstance(spec.get("id"), str):
            yield _missing(f"{call_path}.id")
        elif spec.get("type") == "custom":
            continue
        elif not isinstance(function, dict):
            yield _missing(f"{call_path}.function")
        else:
            yield from _function_rejections(f"{call_path}.function", as_object(function))


def _function_rejections(path: str, function: JsonObject) -> Iterator[Rejection]:
    # `arguments` is a JSON *string*, not an object (section 2.2).
    arguments = function.get("arguments")
    if not isinstance(function.get("name"), str):
        yield _missing(f"{path}.name")
    if arguments is None:
        yield _missing(f"{path}.arguments")
    elif not isinstance(arguments, str):
        yield _invalid_type(f"{path}.arguments", "a string", arguments)


def _call_ids(message: JsonObject) -> list[str]:
    calls = (
        objects_in(list_field(message, "tool_calls")) if message.get("role") == "assistant" else []
    )
    return [call_id for call in calls if (call_id := str_field(call, "id")) is not None]


def _pairing_rejections(messages: list[JsonObject]) -> Iterator[Rejection]:
    # Tool messages answer the tool calls of the assistant message right before
    # them; every call must be answered before the next non-tool message.
    offered: list[str] = []
    pending: list[str] = []
    asked_at = 0
    for index, message in enumerate(messages):
        if message.get("role") == "tool":
            call_id = str_field(message, "tool_call_id")
            yield from _tool_answer_rejections(index, call_id, offered)
            pending = [pending_id for pending_id in pending if pending_id != call_id]
            continue
        if pending:
            yield _unanswered(asked_at, pending)
        offered = pending = _call_ids(message)
        asked_at = index
    if pending:
        yield _unanswered(asked_at, pending)


def _tool_answer_rejections(
    index: int, call_id: str | None, offered: list[str]
) -> Iterator[Rejection]:
    path = f"messages[{index}]"
    if not offered:
        message = "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'."
        yield Rejection(message, f"{path}.role")
    elif call_id is not None and call_id not in offered:
        message = f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in 'tool_calls' of previous message."
        yield Rejection(message, f"{path}.tool_call_id")


def _unanswered(index: int, pending: list[str]) -> Rejection:
    message = (
        "An assistant message with 'tool_calls' must be followed by tool messages responding "
        "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
        + ", ".join(pending)
    )
    return Rejection(message, f"messages[{index}].role")
