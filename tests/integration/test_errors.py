"""Every error reaches the agent in its own wire format with the right status."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from tests.integration.conftest import MAX_BODY_BYTES, Wired

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"


def post(
    wired: Wired, path: str, body: bytes, token: str | None = None, **headers: str
) -> httpx.Response:
    sent = {"content-type": "application/json", **headers}
    if token is not None:
        sent["authorization"] = f"Bearer {token}"
    return httpx.post(wired.broker.url + path, content=body, headers=sent, timeout=10)


def assert_openai_error(response: httpx.Response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert fragment in error["message"]


def assert_anthropic_error(
    response: httpx.Response, status: int, error_type: str, fragment: str
) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert fragment in body["error"]["message"]


def test_unknown_token_is_401_in_each_sdk(wired: Wired) -> None:
    with openai.OpenAI(
        base_url=wired.broker.url + "/v1", api_key="dome_ak_wrong", max_retries=0
    ) as client:
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(
                model="gpt-prod", messages=[{"role": "user", "content": "x"}]
            )
    with anthropic.Anthropic(
        base_url=wired.broker.url, api_key="dome_ak_wrong", max_retries=0
    ) as aclient:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            aclient.messages.create(
                model="anthropic-prod", max_tokens=5, messages=[{"role": "user", "content": "x"}]
            )
    assert caught.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]


def test_missing_token_is_401(wired: Wired) -> None:
    response = post(wired, MESSAGES, b'{"model":"anthropic-prod","max_tokens":5,"messages":[]}')
    assert_anthropic_error(response, 401, "authentication_error", "missing Dome token")


def test_x_api_key_is_accepted(wired: Wired) -> None:
    body = b'{"model":"anthropic-prod","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}'
    response = post(
        wired, MESSAGES, body, **{"x-api-key": wired.token, "anthropic-version": "2023-06-01"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "message"


def test_revoked_token_is_401(wired: Wired) -> None:
    admin = wired.broker.admin
    token = admin.agent("short-lived")
    body = b'{"model":"demo","messages":[{"role":"user","content":"hi"}]}'
    assert post(wired, CHAT, body, token).status_code == 200
    admin.call("POST", "/agents/short-lived/revoke")
    assert_openai_error(post(wired, CHAT, body, token), 401, "invalid or revoked")


def test_unknown_model_is_404(wired: Wired) -> None:
    with openai.OpenAI(
        base_url=wired.broker.url + "/v1", api_key=wired.token, max_retries=0
    ) as client:
        with pytest.raises(openai.NotFoundError) as caught:
            client.chat.completions.create(
                model="no-such-model", messages=[{"role": "user", "content": "x"}]
            )
    assert "no-such-model" in caught.value.message
    response = post(
        wired,
        MESSAGES,
        b'{"model":"nope","max_tokens":5,"messages":[{"role":"user","content":"x"}]}',
        wired.token,
    )
    assert_anthropic_error(response, 404, "not_found_error", "'nope'")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"messages":[{"role":"user","content":"x"}]}', "model: field required"),
        (b'{"model":"gpt-prod"}', "messages: field required"),
        (b'{"model":"gpt-prod","messages":"x"}', "messages: expected an array"),
        (
            b'{"model":"gpt-prod","messages":[{"role":"user","content":"x"}],"stream":"yes"}',
            "stream: expected a boolean",
        ),
    ],
)
def test_malformed_openai_bodies_are_400_naming_the_field(
    wired: Wired, body: bytes, fragment: str
) -> None:
    assert_openai_error(post(wired, CHAT, body, wired.token), 400, fragment)


def test_anthropic_requires_max_tokens(wired: Wired) -> None:
    body = b'{"model":"anthropic-prod","messages":[{"role":"user","content":"x"}]}'
    assert_anthropic_error(
        post(wired, MESSAGES, body, wired.token),
        400,
        "invalid_request_error",
        "max_tokens: field required",
    )


def test_body_over_the_limit_is_413(wired: Wired) -> None:
    big = (
        b'{"model":"gpt-prod","messages":[{"role":"user","content":"'
        + b"a" * MAX_BODY_BYTES
        + b'"}]}'
    )
    assert_openai_error(post(wired, CHAT, big, wired.token), 413, "over the limit")
    response = post(wired, MESSAGES, big, wired.token)
    assert_anthropic_error(response, 413, "request_too_large", "over the limit")


def test_body_over_the_limit_without_content_length_is_413(wired: Wired) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model":"gpt-prod","messages":[{"role":"user","content":"'
        for _ in range(MAX_BODY_BYTES // 4096 + 2):
            yield b"a" * 4096
        yield b'"}]}'

    response = httpx.post(
        wired.broker.url + CHAT,
        content=chunks(),
        timeout=10,
        headers={"authorization": f"Bearer {wired.token}", "content-type": "application/json"},
    )
    assert_openai_error(response, 413, "over the limit")


def test_upstream_errors_pass_through_with_status(wired: Wired) -> None:
    with openai.OpenAI(
        base_url=wired.broker.url + "/v1", api_key=wired.token, max_retries=0
    ) as client:
        with pytest.raises(openai.RateLimitError) as limited:
            client.chat.completions.create(
                model="openai-error-429", messages=[{"role": "user", "content": "x"}]
            )
        assert limited.value.response.headers["retry-after"] == "1"
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(
                model="openai-error-500", messages=[{"role": "user", "content": "x"}]
            )
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(
                model="openai-error-400", messages=[{"role": "user", "content": "x"}], stream=True
            )
    with anthropic.Anthropic(
        base_url=wired.broker.url, api_key=wired.token, max_retries=0
    ) as aclient:
        with pytest.raises(anthropic.RateLimitError):
            aclient.messages.create(
                model="anthropic-error-429",
                max_tokens=5,
                messages=[{"role": "user", "content": "x"}],
            )
        with pytest.raises(anthropic.InternalServerError):
            with aclient.messages.stream(
                model="anthropic-error-500",
                max_tokens=5,
                messages=[{"role": "user", "content": "x"}],
            ) as stream:
                stream.get_final_message()


def test_unknown_route_and_wrong_method(wired: Wired) -> None:
    assert httpx.get(wired.broker.url + "/v1/nothing-here").status_code == 404
    response = httpx.get(wired.broker.url + CHAT)
    assert_openai_error(response, 405, "use POST")
