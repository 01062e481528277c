"""The fake Anthropic upstream's failure and timing behaviours, seen by the SDK."""

import json
import threading
import time

import anthropic
import httpx
import httpx2
import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes_tests.sdk_calls import ANTHROPIC_HELLO as HELLO
from tests.fakes_tests.sdk_calls import ANTHROPIC_VERSION as VERSION
from tests.fakes_tests.sdk_calls import GATE_HOLD, anthropic_create


@pytest.mark.parametrize(
    ("model", "error_class", "status", "error_type"),
    [
        ("error-400", anthropic.BadRequestError, 400, "invalid_request_error"),
        ("error-429", anthropic.RateLimitError, 429, "rate_limit_error"),
        ("error-500", anthropic.InternalServerError, 500, "api_error"),
        ("error-529", anthropic.OverloadedError, 529, "overloaded_error"),
    ],
)
def test_error_models_raise_the_sdk_error(
    anthropic_client: anthropic.Anthropic,
    model: str,
    error_class: type[anthropic.APIStatusError],
    status: int,
    error_type: str,
) -> None:
    with pytest.raises(error_class) as caught:
        anthropic_create(anthropic_client, model)

    assert caught.value.status_code == status
    body = caught.value.body
    assert isinstance(body, dict)
    assert set(body) == {"type", "error", "request_id"}
    assert body["error"]["type"] == error_type
    assert body["request_id"] == caught.value.response.headers["request-id"]


def test_rate_limit_sends_retry_after(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.RateLimitError) as caught:
        anthropic_create(anthropic_client, "error-429")

    assert caught.value.response.headers["retry-after"] == "1"


def test_error_400_names_a_param(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        anthropic_create(anthropic_client, "error-400")

    assert caught.value.message.startswith("Error code: 400")
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["error"]["message"].startswith("messages: ")


def test_wrong_key_is_401_in_anthropic_format(fake_anthropic: FakeAnthropic) -> None:
    with (
        anthropic.Anthropic(base_url=fake_anthropic.url, api_key="wrong", max_retries=0) as client,
        pytest.raises(anthropic.AuthenticationError) as caught,
    ):
        anthropic_create(client, "ok")

    assert caught.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
        "request_id": caught.value.response.headers["request-id"],
    }


@pytest.mark.parametrize(
    ("headers", "content", "message"),
    [
        (
            {"anthropic-version": VERSION},
            b"{not json",
            "The request body is not valid JSON.",
        ),
        (
            {},
            b'{"model":"ok","max_tokens":5,"messages":[]}',
            "anthropic-version: header is required",
        ),
        (
            {"anthropic-version": VERSION},
            b'{"model":"ok","messages":[{"role":"user","content":"x"}]}',
            "max_tokens: Field required",
        ),
    ],
)
def test_bad_requests_are_400_in_anthropic_format(
    fake_anthropic: FakeAnthropic,
    http: httpx.Client,
    headers: dict[str, str],
    content: bytes,
    message: str,
) -> None:
    response = http.post(
        f"{fake_anthropic.url}/v1/messages",
        content=content,
        headers={"x-api-key": fake_anthropic.api_key, **headers},
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": message,
    }


def test_unknown_path_is_404_in_anthropic_format(
    fake_anthropic: FakeAnthropic, http: httpx.Client
) -> None:
    headers = {"x-api-key": fake_anthropic.api_key, "anthropic-version": VERSION}
    response = http.get(f"{fake_anthropic.url}/v1/nothing", headers=headers)

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


def test_stream_cut_raises_the_transport_error_mid_stream(
    anthropic_client: anthropic.Anthropic,
) -> None:
    # The SDK does not wrap errors raised while iterating a stream.
    seen: list[str] = []
    with (
        pytest.raises(httpx2.RemoteProtocolError),
        anthropic_client.messages.stream(
            model="stream-cut", max_tokens=5, messages=HELLO
        ) as stream,
    ):
        seen.extend(event.type for event in stream)

    assert seen[0] == "message_start"
    assert "message_stop" not in seen


def test_stream_cut_without_streaming_is_a_connection_error(
    anthropic_client: anthropic.Anthropic,
) -> None:
    with pytest.raises(anthropic.APIConnectionError):
        anthropic_create(anthropic_client, "stream-cut")


def test_truncated_clean_stream_yields_an_unfinished_message(
    anthropic_client: anthropic.Anthropic,
) -> None:
    with anthropic_client.messages.stream(
        model="stream-truncated-clean", max_tokens=5, messages=HELLO
    ) as stream:
        final = stream.get_final_message()

    assert final.stop_reason is None
    assert final.content[0].type == "text"
    assert "echo: hello".startswith(final.content[0].text)
    assert final.content[0].text != "echo: hello"


def test_bad_json_fails_sdk_decoding(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(json.JSONDecodeError):
        anthropic_create(anthropic_client, "bad-json")


def test_bad_json_stream_fails_sdk_decoding(
    anthropic_client: anthropic.Anthropic,
) -> None:
    with (
        pytest.raises(json.JSONDecodeError),
        anthropic_client.messages.stream(model="bad-json", max_tokens=5, messages=HELLO) as stream,
    ):
        stream.get_final_message()


def test_slow_model_spaces_stream_events(anthropic_client: anthropic.Anthropic) -> None:
    started = time.monotonic()
    with anthropic_client.messages.stream(model="slow", max_tokens=5, messages=HELLO) as stream:
        final = stream.get_final_message()
    elapsed = time.monotonic() - started

    assert final.stop_reason == "end_turn"
    # Nine events: message_start, block start, ping, three deltas, block stop,
    # message_delta, message_stop.
    assert elapsed >= 0.05 * 8


def test_gate_holds_the_stream_after_its_first_event(
    fake_anthropic: FakeAnthropic, anthropic_client: anthropic.Anthropic
) -> None:
    with (
        fake_anthropic.stream_gate.hold() as gate,
        anthropic_client.messages.stream(model="ok", max_tokens=5, messages=HELLO) as stream,
    ):
        events = iter(stream)
        first = next(events)
        assert gate.wait_held()
        release = threading.Timer(GATE_HOLD, gate.release)
        started = time.monotonic()
        release.start()
        rest = [event.type for event in events]
        waited = time.monotonic() - started
    release.join()

    assert first.type == "message_start"
    assert waited >= GATE_HOLD
    assert rest[-1] == "message_stop"
