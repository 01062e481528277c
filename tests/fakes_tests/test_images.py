"""Image inputs on both fakes: accepted shapes echo a note, malformed ones are 400s."""

import base64
from typing import Any, cast

import anthropic
import openai
import pytest
from anthropic.types import MessageParam
from openai.types.chat import ChatCompletionMessageParam

from tests.fakes.images import decode_base64, image_url_note, parse_data_url
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes_tests.sdk_calls import PNG_BASE64, PNG_DATA_URL

PNG_SIZE = len(base64.b64decode(PNG_BASE64))
CAT_URL = "https://example.com/cat.png"


def _openai_parts(*parts: dict[str, Any]) -> list[ChatCompletionMessageParam]:
    content = [{"type": "text", "text": "what is this?"}, *parts]
    return [cast("ChatCompletionMessageParam", {"role": "user", "content": content})]


def _image_url(url: str, **extra: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url, **extra}}


def _anthropic_image(source: dict[str, Any]) -> list[MessageParam]:
    content = [{"type": "text", "text": "what is this?"}, {"type": "image", "source": source}]
    return [cast("MessageParam", {"role": "user", "content": content})]


def _png_source(media_type: str = "image/png", data: str = PNG_BASE64) -> dict[str, Any]:
    return {"type": "base64", "media_type": media_type, "data": data}


def _openai_rejection(client: openai.OpenAI, messages: list[ChatCompletionMessageParam]) -> Any:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="ok", messages=messages)
    return caught.value


def _anthropic_rejection(client: anthropic.Anthropic, messages: list[MessageParam]) -> str:
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(model="ok", max_tokens=64, messages=messages)
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["error"]["type"] == "invalid_request_error"
    return str(body["error"]["message"])


def test_png_fixture_is_68_bytes() -> None:
    assert PNG_SIZE == 68
    assert decode_base64(PNG_BASE64) == base64.b64decode(PNG_BASE64)


@pytest.mark.parametrize("data", ["", "not base64!", "iVBORw0KGgo", "iVBO Rw0K"])
def test_decode_base64_refuses_what_is_not_strict_base64(data: str) -> None:
    assert decode_base64(data) is None


def test_data_urls_parse_and_note() -> None:
    parsed = parse_data_url(PNG_DATA_URL)

    assert parsed is not None
    assert (parsed.media_type, parsed.data) == ("image/png", PNG_BASE64)
    assert parse_data_url("data:image/png,rawbytes") is None
    assert image_url_note(PNG_DATA_URL) == "[image image/png 68 bytes]"
    assert image_url_note(CAT_URL) == f"[image url {CAT_URL}]"
    assert image_url_note("ftp://example.com/cat.png") is None


def test_openai_data_url_image_is_echoed_with_its_size(openai_client: openai.OpenAI) -> None:
    completion = openai_client.chat.completions.create(
        model="ok", messages=_openai_parts(_image_url(PNG_DATA_URL, detail="low"))
    )

    assert completion.choices[0].message.content == (
        f"echo: what is this? [image image/png {PNG_SIZE} bytes]"
    )


def test_openai_url_image_and_several_images(openai_client: openai.OpenAI) -> None:
    completion = openai_client.chat.completions.create(
        model="ok", messages=_openai_parts(_image_url(CAT_URL), _image_url(PNG_DATA_URL))
    )

    assert completion.choices[0].message.content == (
        f"echo: what is this? [image url {CAT_URL}] [image image/png {PNG_SIZE} bytes]"
    )


def test_openai_image_without_text(openai_client: openai.OpenAI) -> None:
    messages = [
        cast("ChatCompletionMessageParam", {"role": "user", "content": [_image_url(CAT_URL)]})
    ]

    completion = openai_client.chat.completions.create(model="ok", messages=messages)

    assert completion.choices[0].message.content == f"echo: [image url {CAT_URL}]"


def test_openai_image_reaches_the_fake_intact(
    fake_openai: FakeOpenAI, openai_client: openai.OpenAI
) -> None:
    openai_client.chat.completions.create(
        model="ok", messages=_openai_parts(_image_url(PNG_DATA_URL))
    )

    sent = fake_openai.last_json("/v1/chat/completions")
    assert sent["messages"][0]["content"][1]["image_url"]["url"] == PNG_DATA_URL


@pytest.mark.parametrize(
    ("url", "code", "fragment"),
    [
        (
            "data:image/bmp;base64," + PNG_BASE64,
            "invalid_value",
            "unsupported MIME type 'image/bmp'",
        ),
        ("data:image/png;base64,not-base64!", "invalid_image_format", "invalid base64 data"),
        ("data:image/png," + PNG_BASE64, "invalid_value", "a value with an invalid format"),
        ("cat.png", "invalid_value", "Expected a valid URL"),
    ],
)
def test_openai_malformed_image_urls_are_rejected(
    openai_client: openai.OpenAI, url: str, code: str, fragment: str
) -> None:
    error = _openai_rejection(openai_client, _openai_parts(_image_url(url)))

    assert error.param == "messages[0].content[1].image_url.url"
    assert error.code == code
    assert error.body["message"].startswith("Invalid 'messages[0].content[1].image_url.url'.")
    assert fragment in error.body["message"]


def test_openai_image_detail_is_checked(openai_client: openai.OpenAI) -> None:
    error = _openai_rejection(openai_client, _openai_parts(_image_url(CAT_URL, detail="max")))

    assert error.param == "messages[0].content[1].image_url.detail"


def test_openai_image_in_a_tool_message_is_rejected(openai_client: openai.OpenAI) -> None:
    messages = [
        {"role": "user", "content": "look"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "snap", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": [_image_url(PNG_DATA_URL)]},
    ]

    error = _openai_rejection(openai_client, cast("Any", messages))

    assert error.param == "messages[2].content[0].type"
    assert error.body["message"] == (
        "Image URLs are only allowed for messages with role 'user', but this message "
        "with role 'tool' contains an image URL."
    )


def test_openai_refuses_an_anthropic_image_block(openai_client: openai.OpenAI) -> None:
    part = {"type": "image", "source": _png_source()}

    error = _openai_rejection(openai_client, _openai_parts(part))

    assert error.param == "messages[0].content[1].type"
    assert error.body["message"].startswith("Invalid value: 'image'. Supported values are:")


def test_anthropic_base64_image_is_echoed_with_its_size(
    anthropic_client: anthropic.Anthropic,
) -> None:
    message = anthropic_client.messages.create(
        model="ok", max_tokens=64, messages=_anthropic_image(_png_source())
    )

    assert message.content[0].type == "text"
    assert message.content[0].text == f"echo: what is this? [image image/png {PNG_SIZE} bytes]"


def test_anthropic_url_image_is_echoed(anthropic_client: anthropic.Anthropic) -> None:
    message = anthropic_client.messages.create(
        model="ok", max_tokens=64, messages=_anthropic_image({"type": "url", "url": CAT_URL})
    )

    assert message.content[0].type == "text"
    assert message.content[0].text == f"echo: what is this? [image url {CAT_URL}]"


def test_anthropic_image_in_a_tool_result_is_echoed(anthropic_client: anthropic.Anthropic) -> None:
    messages = [
        {"role": "user", "content": "snap"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "snap", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [
                        {"type": "text", "text": "photo"},
                        {"type": "image", "source": _png_source("image/webp")},
                    ],
                }
            ],
        },
    ]

    message = anthropic_client.messages.create(
        model="ok", max_tokens=64, messages=cast("Any", messages)
    )

    assert message.content[0].type == "text"
    assert message.content[0].text == f"echo: photo [image image/webp {PNG_SIZE} bytes]"


def test_anthropic_streamed_echo_mentions_the_image(anthropic_client: anthropic.Anthropic) -> None:
    with anthropic_client.messages.stream(
        model="ok", max_tokens=64, messages=_anthropic_image(_png_source("image/jpeg"))
    ) as stream:
        text = "".join(stream.text_stream)

    assert text == f"echo: what is this? [image image/jpeg {PNG_SIZE} bytes]"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            _png_source("image/bmp"),
            "messages.0.content.1.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
        ),
        (
            _png_source(data="not base64!"),
            "messages.0.content.1.image.source.base64.data: Image data is not valid base64",
        ),
        (
            _png_source(data=""),
            "messages.0.content.1.image.source.base64.data: Image data is not valid base64",
        ),
        (
            {"type": "url", "url": "cat.png"},
            "messages.0.content.1.image.source.url.url: Input should be a valid URL",
        ),
        (
            {"type": "data_url", "url": PNG_DATA_URL},
            "messages.0.content.1.image.source: Input tag 'data_url' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'",
        ),
    ],
)
def test_anthropic_malformed_images_are_rejected(
    anthropic_client: anthropic.Anthropic, source: dict[str, Any], expected: str
) -> None:
    assert _anthropic_rejection(anthropic_client, _anthropic_image(source)) == expected


def test_anthropic_refuses_an_openai_image_part(anthropic_client: anthropic.Anthropic) -> None:
    content = [{"type": "text", "text": "hi"}, _image_url(PNG_DATA_URL)]
    messages = [cast("MessageParam", {"role": "user", "content": content})]

    message = _anthropic_rejection(anthropic_client, messages)

    assert message.startswith(
        "messages.0.content.1: Input tag 'image_url' found using 'type' does not match any of the expected tags:"
    )
