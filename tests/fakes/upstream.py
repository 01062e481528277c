"""What every vendor fake shares: its key, request log, gate, ids and serving.

Subclasses supply the routes, the header check and the vendor error format;
this base turns a `Failure` into a response and reads request JSON.
"""

import abc
import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Self

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from tests.fakes.behaviour import (
    ERROR_400_PARAM,
    HANG_SECONDS,
    Behaviour,
    Failure,
    behaviour_for,
    failure_for,
)
from tests.fakes.gate import StreamGate
from tests.fakes.payload import JsonObject, parse_object, str_field
from tests.fakes.recording import RecordedRequest, RecordingMiddleware
from tests.fakes.rejection import Rejection
from tests.fakes.server import serve_app

Endpoint = Callable[[Request], Awaitable[Response]]

RETRY_AFTER_SECONDS = "1"
"""`retry-after` sent with every rate-limit answer."""

HANG_POLL_INTERVAL = 0.02
"""Seconds between a hanging request's looks at whether its client has gone."""


class NotServingError(RuntimeError):
    """`url` was read while the fake is not being served."""


class NoRequestError(LookupError):
    """A recorded request was asked for, but the fake has received none (to that path)."""


class FakeUpstream(abc.ABC):
    """Base of the vendor fakes; `app` is the ASGI app to serve or mount."""

    request_id_header: ClassVar[str]
    """Response header carrying the vendor's request id."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self.stream_gate = StreamGate()
        self._serial = itertools.count(1)
        self._url: str | None = None
        self.app: ASGIApp = RecordingMiddleware(self.build_app(), self.requests)

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT` while served; the vendor paths hang below it."""
        if self._url is None:
            message = f"{type(self).__name__} is not being served"
            raise NotServingError(message)
        return self._url

    @property
    def last_request(self) -> RecordedRequest:
        """The latest request received, whatever its path or outcome (a 400 too)."""
        return self.last_request_to(None)

    def last_request_to(self, path: str | None) -> RecordedRequest:
        """The latest request received for `path` (such as `/v1/messages`), or any path."""
        for request in reversed(self.requests):
            if path is None or request.path == path:
                return request
        where = f" for {path}" if path is not None else ""
        message = f"{type(self).__name__} has received no request{where}"
        raise NoRequestError(message)

    def last_json(self, path: str | None = None) -> Any:
        """The JSON body of `last_request_to(path)`: what went upstream, as decoded."""
        return self.last_request_to(path).json()

    @contextmanager
    def serve(self) -> Iterator[Self]:
        """Serve this fake on a free loopback port for the `with` block."""
        with serve_app(self.app) as served:
            self._url = served.url
            try:
                yield self
            finally:
                self._url = None

    def reset(self) -> None:
        """Forget recorded requests and open the gate; call it at a test's start."""
        self.requests.clear()
        self.stream_gate.release()

    def next_id(self, prefix: str) -> str:
        """A fresh id such as `msg_fake000007`; unique within this fake."""
        return f"{prefix}fake{next(self._serial):06d}"

    @abc.abstractmethod
    def build_app(self) -> Starlette:
        """The vendor routes; wrapped in recording by `__init__`."""

    @abc.abstractmethod
    def check_headers(self, request: Request) -> Response | None:
        """The vendor's auth/header check: an error response, or None to proceed."""

    @abc.abstractmethod
    def render_error(
        self,
        failure: Failure,
        message: str | None,
        param: str | None,
        request_id: str,
        code: str | None = None,
    ) -> tuple[int, JsonObject]:
        """Status and body of `failure` in the vendor's error format."""

    def error_response(
        self,
        failure: Failure,
        message: str | None = None,
        param: str | None = None,
        code: str | None = None,
    ) -> JSONResponse:
        request_id = self.next_id("req_")
        status, body = self.render_error(failure, message, param, request_id, code)
        headers = {self.request_id_header: request_id}
        if failure is Failure.RATE_LIMITED:
            headers["retry-after"] = RETRY_AFTER_SECONDS
        return JSONResponse(body, status_code=status, headers=headers)

    def reject(self, rejection: Rejection) -> JSONResponse:
        """The vendor's 400 for a request its real API would refuse."""
        return self.error_response(
            Failure.INVALID_REQUEST, rejection.message, rejection.param, rejection.code
        )

    def response_headers(self) -> dict[str, str]:
        return {self.request_id_header: self.next_id("req_")}

    def guarded(self, endpoint: Endpoint) -> Endpoint:
        """`endpoint` behind `check_headers`."""

        async def checked(request: Request) -> Response:
            denied = self.check_headers(request)
            return denied if denied is not None else await endpoint(request)

        return checked

    async def read_object(self, request: Request) -> JsonObject | Response:
        """The request's JSON object, or the vendor's 400 for a malformed body."""
        body = parse_object(await request.body())
        if body is None:
            return self.error_response(
                Failure.INVALID_REQUEST, "The request body is not valid JSON."
            )
        return body

    def admit_model(self, body: JsonObject) -> str | Response:
        """The requested model, or the error its behaviour (or absence) calls for."""
        model = str_field(body, "model")
        if model is None:
            return self.error_response(Failure.INVALID_REQUEST, "Field required", "model")
        failure = failure_for(behaviour_for(model))
        if failure is None:
            return model
        param = ERROR_400_PARAM if failure is Failure.INVALID_REQUEST else None
        return self.error_response(failure, param=param)

    async def hang_if_asked(self, request: Request, model: str) -> None:
        """`hang`: send nothing for `HANG_SECONDS`; return early once the client hangs up,
        so an abandoned request does not keep the server (or its shutdown) waiting."""
        if behaviour_for(model) is not Behaviour.HANG:
            return
        deadline = time.monotonic() + HANG_SECONDS
        # Polled: the disconnect is only seen by asking the ASGI channel.
        while time.monotonic() < deadline and not await request.is_disconnected():  # noqa: ASYNC110
            await asyncio.sleep(HANG_POLL_INTERVAL)

    async def not_found(self, request: Request, _exc: Exception) -> Response:
        message = f"Invalid URL ({request.method} {request.url.path})"
        return self.error_response(Failure.NOT_FOUND, message)
