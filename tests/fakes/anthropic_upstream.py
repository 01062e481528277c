"""A fake Anthropic API: messages (plain and streamed), count_tokens, models.

Routes, `x-api-key` / `anthropic-version` checking and Anthropic error bodies.
Requests the real API refuses are 400s (`anthropic_checks`); with `thinking`
on, answers open with a signed thinking block. The JSON it answers with is
built in `anthropic_events`, the pacing in `delivery`.
"""

from dataclasses import dataclass
from typing import ClassVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import anthropic_events
from tests.fakes.answers import estimate_tokens, plan_answer, with_reasoning
from tests.fakes.anthropic_checks import count_tokens_rejection, is_thinking, messages_rejection
from tests.fakes.behaviour import (
    Behaviour,
    Failure,
    behaviour_for,
    catalog_models,
    is_parallel,
)
from tests.fakes.delivery import SseEvent, body_response, failing_stream, stream_response
from tests.fakes.payload import JsonObject, dump_json, list_field
from tests.fakes.reasoning import thinking_text
from tests.fakes.upstream import FakeUpstream

DEFAULT_API_KEY = "sk-ant-fake-key"
VERSION_HEADER = "anthropic-version"


@dataclass(frozen=True, slots=True)
class _ErrorSpec:
    status: int
    error_type: str
    message: str


# Status and error.type per WIRE-FORMATS.md section 3.5.
_ERRORS: dict[Failure, _ErrorSpec] = {
    Failure.INVALID_REQUEST: _ErrorSpec(400, "invalid_request_error", "Invalid request."),
    Failure.UNAUTHENTICATED: _ErrorSpec(401, "authentication_error", "invalid x-api-key"),
    Failure.NOT_FOUND: _ErrorSpec(404, "not_found_error", "Not found."),
    Failure.RATE_LIMITED: _ErrorSpec(
        429, "rate_limit_error", "Number of requests has exceeded your rate limit."
    ),
    Failure.SERVER_ERROR: _ErrorSpec(500, "api_error", "Internal server error."),
    Failure.OVERLOADED: _ErrorSpec(529, "overloaded_error", "Overloaded"),
}


class FakeAnthropic(FakeUpstream):
    """Serves `/v1/messages`, `/v1/messages/count_tokens` and `/v1/models`.

    Query strings such as the beta SDK's `?beta=true` are ignored by routing.
    """

    request_id_header: ClassVar[str] = "request-id"

    def __init__(self, api_key: str = DEFAULT_API_KEY) -> None:
        super().__init__(api_key)

    def build_app(self) -> Starlette:
        routes = [
            Route("/v1/messages", self.guarded(self._messages), methods=["POST"]),
            Route(
                "/v1/messages/count_tokens",
                self.guarded(self._count_tokens),
                methods=["POST"],
            ),
            Route("/v1/models", self.guarded(self._models), methods=["GET"]),
        ]
        return Starlette(routes=routes, exception_handlers={404: self.not_found})

    def check_headers(self, request: Request) -> Response | None:
        # x-api-key, or a bearer token as OAuth-style clients send (section 3.1).
        headers = request.headers
        has_key = headers.get("x-api-key") == self.api_key
        has_bearer = headers.get("authorization") == f"Bearer {self.api_key}"
        if not (has_key or has_bearer):
            return self.error_response(Failure.UNAUTHENTICATED)
        if VERSION_HEADER not in headers:
            message = f"{VERSION_HEADER}: header is required"
            return self.error_response(Failure.INVALID_REQUEST, message)
        return None

    def render_error(
        self,
        failure: Failure,
        message: str | None,
        param: str | None,
        request_id: str,
        code: str | None = None,
    ) -> tuple[int, JsonObject]:
        # Anthropic names the offending field at the start of the message; no code.
        del code
        spec = _ERRORS[failure]
        text = message or spec.message
        text = f"{param}: {text}" if param else text
        return spec.status, anthropic_events.error(spec.error_type, text, request_id)

    async def _messages(self, request: Request) -> Response:
        body = await self.read_object(request)
        if isinstance(body, Response):
            return body
        for field, present in (
            ("messages", bool(list_field(body, "messages"))),
            ("max_tokens", "max_tokens" in body),
        ):
            if not present:
                return self.error_response(Failure.INVALID_REQUEST, "Field required", field)
        rejection = messages_rejection(body)
        if rejection is not None:
            return self.reject(rejection)
        model = self.admit_model(body)
        if isinstance(model, Response):
            return model
        await self.hang_if_asked(request, model)
        return await self._answer_messages(body, model)

    async def _answer_messages(self, body: JsonObject, model: str) -> Response:
        prompt = anthropic_events.prompt_from_messages(body)
        prefix = self.next_id("toolu_") + "_"
        answer = plan_answer(prompt, parallel=is_parallel(model), call_id_prefix=prefix)
        if is_thinking(body):
            answer = with_reasoning(answer, thinking_text(prompt))
        message_id = self.next_id("msg_")
        behaviour = behaviour_for(model)
        if body.get("stream") is True:
            events = anthropic_events.stream_events(answer, message_id=message_id, model=model)
            if behaviour is Behaviour.STREAM_OVERLOADED:
                error = {
                    "type": "error",
                    "error": {"type": "overloaded_error", "message": "Overloaded"},
                }
                failure = SseEvent(data=dump_json(error), event="error")
                return failing_stream(events[0], failure, self.response_headers())
            return stream_response(events, behaviour, self.stream_gate, self.response_headers())
        result = anthropic_events.message(answer, message_id=message_id, model=model)
        encoded = dump_json(result).encode()
        return await body_response(encoded, behaviour, self.response_headers())

    async def _count_tokens(self, request: Request) -> Response:
        body = await self.read_object(request)
        if isinstance(body, Response):
            return body
        rejection = count_tokens_rejection(body)
        if rejection is not None:
            return self.reject(rejection)
        model = self.admit_model(body)
        if isinstance(model, Response):
            return model
        prompt = anthropic_events.prompt_from_messages(body)
        result = anthropic_events.count_tokens(estimate_tokens(prompt.text_chars))
        encoded = dump_json(result).encode()
        return await body_response(encoded, behaviour_for(model), self.response_headers())

    async def _models(self, _request: Request) -> Response:
        body = anthropic_events.models(catalog_models())
        return JSONResponse(body, headers=self.response_headers())
