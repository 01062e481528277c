"""A fake OpenAI API: chat completions (plain and streamed), embeddings, models.

Routes, `Authorization: Bearer` checking and OpenAI error bodies. Requests the
real API refuses are 400s (`openai_checks`); `reasoning_effort` adds reasoning
tokens, a `reasoner` model also shows `reasoning_content`. The JSON it answers
with is built in `openai_events`, the pacing in `delivery`.
"""

from dataclasses import dataclass
from typing import ClassVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import openai_events
from tests.fakes.answers import embedding_vector, estimate_tokens, plan_answer, with_reasoning
from tests.fakes.behaviour import (
    Behaviour,
    Failure,
    behaviour_for,
    catalog_models,
    is_parallel,
    is_reasoner,
)
from tests.fakes.delivery import body_response, stream_response
from tests.fakes.openai_checks import chat_rejection
from tests.fakes.payload import (
    JsonObject,
    dump_json,
    int_field,
    list_field,
    object_field,
    str_field,
)
from tests.fakes.reasoning import EFFORT_REASONING_TOKENS, thinking_text
from tests.fakes.upstream import FakeUpstream

DEFAULT_API_KEY = "sk-fake-openai-key"
DEFAULT_EMBEDDING_DIMENSIONS = 8


@dataclass(frozen=True, slots=True)
class _ErrorSpec:
    status: int
    error_type: str
    code: str | None
    message: str


# Status, type and code as the real API sends them (WIRE-FORMATS.md section 2.5).
# OpenAI has no 529: an overloaded engine answers 503.
_ERRORS: dict[Failure, _ErrorSpec] = {
    Failure.INVALID_REQUEST: _ErrorSpec(
        400, "invalid_request_error", None, "Invalid request (fake upstream)."
    ),
    Failure.UNAUTHENTICATED: _ErrorSpec(
        401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided."
    ),
    Failure.NOT_FOUND: _ErrorSpec(404, "invalid_request_error", "unknown_url", "Unknown URL."),
    Failure.RATE_LIMITED: _ErrorSpec(
        429, "requests", "rate_limit_exceeded", "Rate limit reached for requests."
    ),
    Failure.SERVER_ERROR: _ErrorSpec(
        500,
        "server_error",
        None,
        "The server had an error while processing your request.",
    ),
    Failure.OVERLOADED: _ErrorSpec(
        503,
        "server_error",
        None,
        "The engine is currently overloaded, please try again later.",
    ),
}


class FakeOpenAI(FakeUpstream):
    """Serves `/v1/chat/completions`, `/v1/embeddings` and `/v1/models`."""

    request_id_header: ClassVar[str] = "x-request-id"

    def __init__(self, api_key: str = DEFAULT_API_KEY) -> None:
        super().__init__(api_key)

    def build_app(self) -> Starlette:
        routes = [
            Route("/v1/chat/completions", self.guarded(self._chat), methods=["POST"]),
            Route("/v1/embeddings", self.guarded(self._embeddings), methods=["POST"]),
            Route("/v1/models", self.guarded(self._models), methods=["GET"]),
        ]
        return Starlette(routes=routes, exception_handlers={404: self.not_found})

    def check_headers(self, request: Request) -> Response | None:
        if request.headers.get("authorization") == f"Bearer {self.api_key}":
            return None
        return self.error_response(Failure.UNAUTHENTICATED)

    def render_error(
        self,
        failure: Failure,
        message: str | None,
        param: str | None,
        request_id: str,
        code: str | None = None,
    ) -> tuple[int, JsonObject]:
        del request_id  # OpenAI sends it only as the x-request-id header.
        spec = _ERRORS[failure]
        text = message or spec.message
        body = openai_events.error(text, spec.error_type, param, code or spec.code)
        return spec.status, body

    async def _chat(self, request: Request) -> Response:
        body = await self.read_object(request)
        if isinstance(body, Response):
            return body
        if not list_field(body, "messages"):
            message = "'messages' must be a non-empty array."
            return self.error_response(Failure.INVALID_REQUEST, message, "messages")
        rejection = chat_rejection(body)
        if rejection is not None:
            return self.reject(rejection)
        model = self.admit_model(body)
        if isinstance(model, Response):
            return model
        await self.hang_if_asked(request, model)
        return await self._answer_chat(body, model)

    async def _answer_chat(self, body: JsonObject, model: str) -> Response:
        prompt = openai_events.prompt_from_chat(body)
        prefix = self.next_id("call_") + "_"
        answer = plan_answer(prompt, parallel=is_parallel(model), call_id_prefix=prefix)
        effort = str_field(body, "reasoning_effort")
        if is_reasoner(model):
            answer = with_reasoning(answer, thinking_text(prompt))
        elif effort is not None:
            answer = with_reasoning(answer, None, EFFORT_REASONING_TOKENS[effort])
        completion_id = self.next_id("chatcmpl-")
        behaviour = behaviour_for(model)
        if body.get("stream") is True:
            include_usage = object_field(body, "stream_options").get("include_usage") is True
            chunks = openai_events.stream_chunks(
                answer,
                completion_id=completion_id,
                model=model,
                include_usage=include_usage,
            )
            events = openai_events.stream_events(chunks)
            return stream_response(events, behaviour, self.stream_gate, self.response_headers())
        result = openai_events.completion(answer, completion_id=completion_id, model=model)
        return await self._send(result, behaviour)

    async def _embeddings(self, request: Request) -> Response:
        body = await self.read_object(request)
        if isinstance(body, Response):
            return body
        model = self.admit_model(body)
        if isinstance(model, Response):
            return model
        texts = openai_events.embedding_inputs(body)
        dimensions = int_field(body, "dimensions") or DEFAULT_EMBEDDING_DIMENSIONS
        as_base64 = body.get("encoding_format") == "base64"
        items = [
            openai_events.embedding_item(
                index, embedding_vector(text, dimensions), as_base64=as_base64
            )
            for index, text in enumerate(texts)
        ]
        tokens = sum(estimate_tokens(len(text)) for text in texts)
        result = openai_events.embeddings(items, model=model, prompt_tokens=tokens)
        return await self._send(result, behaviour_for(model))

    async def _models(self, _request: Request) -> Response:
        body = openai_events.models(catalog_models())
        return JSONResponse(body, headers=self.response_headers())

    async def _send(self, result: JsonObject, behaviour: Behaviour) -> Response:
        encoded = dump_json(result).encode()
        return await body_response(encoded, behaviour, self.response_headers())
