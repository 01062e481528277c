"""The fake OpenAI upstream's failure and timing behaviours, seen by the openai SDK."""

import json
import threading
import time

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionChunk

from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes_tests.sdk_calls import GATE_HOLD, openai_stream
from tests.fakes_tests.sdk_calls import OPENAI_HELLO as HELLO


@pytest.mark.parametrize(
    ("model", "error_class", "status", "error_type"),
    [
        ("error-400", openai.BadRequestError, 400, "invalid_request_error"),
        ("error-429", openai.RateLimitError, 429, "requests"),
        ("error-500", openai.InternalServerError, 500, "server_error"),
        ("error-529", openai.InternalServerError, 503, "server_error"),
    ],
)
def test_error_models_raise_the_sdk_error(
    openai_client: openai.OpenAI,
    model: str,
    error_class: type[openai.APIStatusError],
    status: int,
    error_type: str,
) -> None:
    with pytest.raises(error_class) as caught:
        openai_client.chat.completions.create(model=model, messages=HELLO)

    assert caught.value.status_code == status
    assert isinstance(caught.value.body, dict)
    assert set(caught.value.body) == {"message", "type", "param", "code"}
    assert caught.value.body["type"] == error_type


def test_rate_limit_sends_retry_after(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.embeddings.create(model="error-429", input="x")

    assert caught.value.response.headers["retry-after"] == "1"


def test_error_400_names_a_param(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(model="error-400", messages=HELLO)

    assert caught.value.param == "messages"


def test_wrong_key_is_401_in_openai_format(fake_openai: FakeOpenAI) -> None:
    with (
        openai.OpenAI(base_url=fake_openai.url + "/v1", api_key="wrong", max_retries=0) as client,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        client.models.list()

    assert caught.value.body == {
        "message": "Incorrect API key provided.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }


def test_malformed_json_is_400_in_openai_format(
    fake_openai: FakeOpenAI, http: httpx.Client
) -> None:
    response = http.post(
        f"{fake_openai.url}/v1/chat/completions",
        content=b"{not json",
        headers={"authorization": f"Bearer {fake_openai.api_key}"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_stream_cut_breaks_sdk_iteration_midway(openai_client: openai.OpenAI) -> None:
    received: list[ChatCompletionChunk] = []
    with (
        pytest.raises(openai.APIConnectionError),
        openai_client.chat.completions.create(
            model="stream-cut", messages=HELLO, stream=True
        ) as stream,
    ):
        received.extend(stream)

    assert received
    assert all(chunk.choices[0].finish_reason is None for chunk in received)


def test_stream_cut_is_a_truncated_chunked_body(
    fake_openai: FakeOpenAI, http: httpx.Client
) -> None:
    body = {"model": "stream-cut", "messages": HELLO, "stream": True}
    headers = {"authorization": f"Bearer {fake_openai.api_key}"}

    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        http.post(f"{fake_openai.url}/v1/chat/completions", json=body, headers=headers)


def test_truncated_clean_stream_has_no_done_event(
    fake_openai: FakeOpenAI, http: httpx.Client
) -> None:
    body = {"model": "stream-truncated-clean", "messages": HELLO, "stream": True}
    headers = {"authorization": f"Bearer {fake_openai.api_key}"}

    response = http.post(f"{fake_openai.url}/v1/chat/completions", json=body, headers=headers)

    assert response.status_code == 200
    assert response.text.startswith("data: {")
    assert "[DONE]" not in response.text
    assert '"finish_reason":"stop"' not in response.text


def test_stream_cut_without_streaming_is_a_connection_error(
    openai_client: openai.OpenAI,
) -> None:
    with pytest.raises(openai.APIConnectionError):
        openai_client.chat.completions.create(model="stream-cut", messages=HELLO)


def test_truncated_clean_stream_ends_quietly_without_finish(
    openai_client: openai.OpenAI,
) -> None:
    chunks = openai_stream(openai_client, "stream-truncated-clean")

    assert chunks
    assert all(chunk.choices[0].finish_reason is None for chunk in chunks)


def test_truncated_clean_without_streaming_is_broken_json(
    openai_client: openai.OpenAI,
) -> None:
    with pytest.raises(json.JSONDecodeError):
        openai_client.chat.completions.create(model="stream-truncated-clean", messages=HELLO)


def test_bad_json_fails_sdk_decoding(openai_client: openai.OpenAI) -> None:
    with pytest.raises(json.JSONDecodeError):
        openai_client.chat.completions.create(model="bad-json", messages=HELLO)


def test_bad_json_stream_fails_sdk_decoding(openai_client: openai.OpenAI) -> None:
    with pytest.raises(json.JSONDecodeError):
        openai_stream(openai_client, "bad-json")


def test_slow_model_spaces_stream_events(openai_client: openai.OpenAI) -> None:
    started = time.monotonic()
    chunks = openai_stream(openai_client, "slow")
    elapsed = time.monotonic() - started

    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "echo: hello"
    assert elapsed >= 0.05 * (len(chunks) - 1)


def test_slow_model_delays_plain_answers(openai_client: openai.OpenAI) -> None:
    started = time.monotonic()
    openai_client.chat.completions.create(model="slow", messages=HELLO)

    assert time.monotonic() - started >= 0.2


def test_gate_holds_the_stream_after_its_first_event(
    fake_openai: FakeOpenAI, openai_client: openai.OpenAI
) -> None:
    with (
        fake_openai.stream_gate.hold() as gate,
        openai_client.chat.completions.create(model="ok", messages=HELLO, stream=True) as stream,
    ):
        chunks = iter(stream)
        first = next(chunks)
        assert gate.wait_held()
        release = threading.Timer(GATE_HOLD, gate.release)
        started = time.monotonic()
        release.start()
        rest = list(chunks)
        waited = time.monotonic() - started
    release.join()

    assert first.choices[0].delta.role == "assistant"
    assert waited >= GATE_HOLD
    assert rest[-1].choices[0].finish_reason == "stop"
