"""Serving ASGI apps on loopback, and recording what a fake received."""

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.recording import RecordedRequest
from tests.fakes.server import serve_app
from tests.fakes.upstream import NotServingError


async def _hello(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


HELLO_APP = Starlette(routes=[Route("/hello", _hello)])


def test_serve_app_listens_on_loopback_until_exit() -> None:
    with serve_app(HELLO_APP) as served:
        assert served.url == f"http://127.0.0.1:{served.port}"
        assert served.port > 0
        response = httpx.get(f"{served.url}/hello")
        assert response.text == "hello"

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{served.url}/hello")


def test_two_servers_get_different_ports() -> None:
    with serve_app(HELLO_APP) as first, serve_app(HELLO_APP) as second:
        assert first.port != second.port


def test_fake_url_exists_only_while_served() -> None:
    fake = FakeOpenAI(api_key="k")
    with pytest.raises(NotServingError):
        _ = fake.url

    with fake.serve() as served:
        assert served is fake
        assert fake.url.startswith("http://127.0.0.1:")

    with pytest.raises(NotServingError):
        _ = fake.url


def test_recording_keeps_query_repeated_headers_and_raw_body(
    fake_openai: FakeOpenAI, http: httpx.Client
) -> None:
    fake_openai.reset()
    body = b'{"model": "ok",  "messages": [] }'
    headers = [("X-Repeat", "a"), ("X-Repeat", "b"), ("Authorization", "Bearer wrong")]

    response = http.post(
        f"{fake_openai.url}/v1/chat/completions?trace=1", content=body, headers=headers
    )

    assert response.status_code == 401
    [request] = fake_openai.requests
    assert request == RecordedRequest(
        method="POST",
        path="/v1/chat/completions",
        query="trace=1",
        headers=request.headers,
        body=body,
        received_at=request.received_at,
    )
    assert request.received_at > 0
    assert request.headers["x-repeat"] == "a, b"
    assert request.headers["authorization"] == "Bearer wrong"


def test_reset_forgets_requests_and_opens_the_gate(
    fake_openai: FakeOpenAI, http: httpx.Client
) -> None:
    http.get(f"{fake_openai.url}/v1/models")
    fake_openai.stream_gate.block()

    fake_openai.reset()

    assert fake_openai.requests == []
    assert not fake_openai.stream_gate.is_blocked


def test_unknown_path_is_404_in_openai_format(fake_openai: FakeOpenAI, http: httpx.Client) -> None:
    headers = {"authorization": f"Bearer {fake_openai.api_key}"}
    response = http.get(f"{fake_openai.url}/v1/nothing", headers=headers)

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "Invalid URL (GET /v1/nothing)",
            "type": "invalid_request_error",
            "param": None,
            "code": "unknown_url",
        }
    }
