"""API errors, an unreachable broker, odd answers: one `error:` line, exit 1."""

from __future__ import annotations

import socket

import httpx
import pytest

from dome.cli import CliContext, cli
from dome.cli.client import admin_path

from .fake_admin import ADMIN_TOKEN
from .harness import Dome, assert_exit


@pytest.fixture
def closed_port() -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_connection_refused(dome: Dome, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    result = dome.run("--url", url, "tenant", "list", network=True)
    assert_exit(result, 1)
    assert result.stderr == f"error: cannot reach the broker at {url} (is 'dome serve' running?)\n"
    assert result.stdout == ""


def test_url_credentials_are_not_printed(dome: Dome, closed_port: int) -> None:
    url = f"http://user:hunter2@127.0.0.1:{closed_port}"
    result = dome.run("--url", url, "tenant", "list", network=True)
    assert_exit(result, 1)
    assert "hunter2" not in result.output
    assert f"127.0.0.1:{closed_port}" in result.stderr


def test_non_http_url_is_a_clear_error(dome: Dome) -> None:
    result = dome.run("--url", "ftp://127.0.0.1:21", "tenant", "list", network=True)
    assert_exit(result, 1)
    assert "is not an http:// or https:// URL" in result.stderr


def test_wrong_token_is_a_401_error_with_a_hint(dome: Dome) -> None:
    result = dome.run("tenant", "list", env={"DOME_ADMIN_TOKEN": "wrong-token"})
    assert_exit(result, 1)
    assert result.stderr == (
        "error: invalid admin token (check DOME_ADMIN_TOKEN or <data-dir>/admin-token)\n"
    )
    assert "wrong-token" not in result.output


def run_against(dome: Dome, handler: httpx.MockTransport) -> tuple[int, str]:
    result = dome.runner.invoke(
        cli,
        ["tenant", "list"],
        env={"DOME_ADMIN_TOKEN": ADMIN_TOKEN, "DOME_URL": None},
        obj=CliContext(transport=handler),
    )
    assert_exit(result, result.exit_code)
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            httpx.Response(500, text="boom"),
            "the broker answered 500 Internal Server Error",
        ),
        (
            httpx.Response(502, json={"error": "flat"}),
            "the broker answered 502 Bad Gateway",
        ),
        (
            httpx.Response(200, text="<html>"),
            "the broker answered 200 with a non-JSON body",
        ),
        (httpx.Response(200, json=[1]), "an answer that is not a JSON object"),
        (httpx.Response(200, json={"data": "x"}), "a listing without a 'data' array"),
    ],
)
def test_odd_answers(dome: Dome, response: httpx.Response, message: str) -> None:
    code, stderr = run_against(dome, httpx.MockTransport(lambda _: response))
    assert code == 1
    assert stderr.startswith("error: ")
    assert message in stderr
    assert stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (httpx.ConnectTimeout("t"), "cannot reach the broker at http://127.0.0.1:8480"),
        (
            httpx.ReadTimeout("t"),
            "the broker at http://127.0.0.1:8480 did not answer in time",
        ),
        (httpx.RemoteProtocolError("x"), "failed (RemoteProtocolError)"),
    ],
)
def test_transport_failures(dome: Dome, failure: httpx.RequestError, message: str) -> None:
    def fail(_: httpx.Request) -> httpx.Response:
        raise failure

    code, stderr = run_against(dome, httpx.MockTransport(fail))
    assert code == 1
    assert stderr.startswith("error: ")
    assert message in stderr


def test_admin_path_escapes_each_segment() -> None:
    assert admin_path("models", "a/b", "credential") == "/admin/v1/models/a%2Fb/credential"
