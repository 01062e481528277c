"""Streams are relayed event by event; broken streams end in a well-formed error."""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest

from tests.integration.conftest import Wired


def stream_request(wired: Wired, path: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(
        wired.broker.url + path,
        json=body,
        timeout=10,
        headers={"authorization": f"Bearer {wired.token}", "anthropic-version": "2023-06-01"},
    )


def test_first_event_reaches_the_agent_before_the_upstream_sent_its_last(wired: Wired) -> None:
    body = {
        "model": "gpt-prod",
        "stream": True,
        "messages": [{"role": "user", "content": "hold on"}],
    }
    with (
        wired.openai.stream_gate.hold() as gate,
        httpx.stream(
            "POST",
            wired.broker.url + "/v1/chat/completions",
            json=body,
            timeout=10,
            headers={"authorization": f"Bearer {wired.token}"},
        ) as response,
    ):
        lines = response.iter_lines()
        first = next(line for line in lines if line.startswith("data: "))
        # The upstream is parked after its first event, so this event was relayed
        # while the upstream stream was still open.
        assert gate.wait_held()
        assert '"role":"assistant"' in first.replace(" ", "")
        gate.release()
        rest = [line for line in lines if line.startswith("data: ")]
    assert rest[-1] == "data: [DONE]"


def test_anthropic_stream_cut_mid_way_gives_an_error_event(wired: Wired) -> None:
    with anthropic.Anthropic(
        base_url=wired.broker.url, api_key=wired.token, max_retries=0
    ) as client:
        with pytest.raises(anthropic.APIStatusError) as caught:
            with client.messages.stream(
                model="anthropic-stream-cut",
                max_tokens=50,
                messages=[{"role": "user", "content": "long answer"}],
            ) as stream:
                stream.get_final_message()
    assert "broke off" in str(caught.value.message)


@pytest.mark.parametrize("model", ["openai-stream-cut", "openai-stream-truncated-clean"])
def test_openai_stream_cut_gives_an_error_not_a_clean_end(wired: Wired, model: str) -> None:
    with openai.OpenAI(
        base_url=wired.broker.url + "/v1", api_key=wired.token, max_retries=0
    ) as client:
        with pytest.raises(openai.APIError):
            for _ in client.chat.completions.create(
                model=model, stream=True, messages=[{"role": "user", "content": "long answer"}]
            ):
                pass


def test_anthropic_clean_end_without_message_stop_is_an_error(wired: Wired) -> None:
    response = stream_request(
        wired,
        "/v1/messages",
        {
            "model": "anthropic-stream-truncated-clean",
            "max_tokens": 50,
            "stream": True,
            "messages": [{"role": "user", "content": "x"}],
        },
    )
    assert response.status_code == 200
    assert "event: error" in response.text
    assert "without its final event" in response.text
    assert "event: message_stop" not in response.text


def test_stream_relay_keeps_the_upstream_event_framing(wired: Wired) -> None:
    body = {
        "model": "gpt-4o-mini",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "same bytes"}],
    }
    via_broker = stream_request(wired, "/v1/chat/completions", body).content
    direct = httpx.post(
        wired.openai.url + "/v1/chat/completions",
        json=body,
        timeout=10,
        headers={"authorization": f"Bearer {wired.openai.api_key}"},
    ).content
    # Ids and timestamps differ per call; the event framing and count must not.
    assert via_broker.count(b"\n\n") == direct.count(b"\n\n")
    assert via_broker.endswith(b"data: [DONE]\n\n")
