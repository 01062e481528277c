"""A fake Vertex AI: Gemini generateContent (whole and `alt=sse`) and an OAuth token endpoint.

Serves `POST /token` (the JWT-bearer grant of service-account credentials, checked by
`google_oauth.TokenMinter`) and
`POST /v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`
/ `:streamGenerateContent?alt=sse` (WIRE-FORMATS 5.2-5.5), accepting only
`Authorization: Bearer` tokens it minted. Behaviours come from the model name as for
the other fakes; offered tools are called (`parallel`: two calls). Answers carry
no call ids, as Gemini's usually do not. A `thinkingConfig` (budget other than 0) adds
thinking, counted in `thoughtsTokenCount`, shown as `thought` parts with `includeThoughts`.
"""

import re
import time
import urllib.parse
from typing import ClassVar, cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.answers import (
    Answer,
    Prompt,
    ToolSpec,
    estimate_tokens,
    plan_answer,
    split_fragments,
    with_reasoning,
)
from tests.fakes.behaviour import Failure, behaviour_for, failure_for, is_parallel
from tests.fakes.delivery import SseEvent, body_response, stream_response
from tests.fakes.google_oauth import GrantError, ServiceAccount, TokenMinter, new_service_account
from tests.fakes.payload import (
    JsonObject,
    as_object,
    count_text_chars,
    dump_json,
    list_field,
    object_field,
    objects_in,
    str_field,
)
from tests.fakes.reasoning import thinking_text
from tests.fakes.upstream import FakeUpstream

MODEL_PATH = "/v1/projects/{project}/locations/{location}/publishers/google/models/{call}"
TOKEN_PATH = "/token"
THOUGHT_SIGNATURE = "c2lnbmVkLWJ5LWZha2U="  # base64 of b"signed-by-fake"
"""The `thoughtSignature` the fake puts on its first function call part."""

# (HTTP status, google.rpc status, message) as Vertex sends them (WIRE-FORMATS 5.5).
_ERRORS: dict[Failure, tuple[int, str, str]] = {
    Failure.INVALID_REQUEST: (400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
    Failure.UNAUTHENTICATED: (
        401,
        "UNAUTHENTICATED",
        (
            "Request had invalid authentication credentials. Expected OAuth 2 access token,"
            " login cookie or other valid authentication credential."
        ),
    ),
    Failure.NOT_FOUND: (404, "NOT_FOUND", "Publisher Model was not found."),
    Failure.RATE_LIMITED: (
        429,
        "RESOURCE_EXHAUSTED",
        "Resource exhausted. Please try again later.",
    ),
    Failure.SERVER_ERROR: (500, "INTERNAL", "Internal error encountered."),
    Failure.OVERLOADED: (503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
}


class FakeVertex(FakeUpstream):
    """Gemini on Vertex plus its token endpoint; `service_account` is trusted by it.

    The service account is made at `serve()`, once the token URL is known.
    """

    # Vertex sends no request id header of its own; this lets tests correlate.
    request_id_header: ClassVar[str] = "x-request-id"

    def __init__(self) -> None:
        super().__init__(api_key="")  # Vertex takes OAuth tokens, never a key
        self.minter = TokenMinter()
        self._account: ServiceAccount | None = None

    @property
    def token_uri(self) -> str:
        return self.url + TOKEN_PATH

    @property
    def service_account(self) -> ServiceAccount:
        """The trusted account (made on first use, while served)."""
        if self._account is None:
            self._account = new_service_account(self.token_uri)
            self.minter.trust(self._account)
        return self._account

    def model_url(
        self, model: str, action: str, project: str = "fake-project", location: str = "us-central1"
    ) -> str:
        path = MODEL_PATH.format(project=project, location=location, call=f"{model}:{action}")
        return self.url + path

    def build_app(self) -> Starlette:
        routes = [
            Route(TOKEN_PATH, self._token, methods=["POST"]),
            Route(MODEL_PATH, self.guarded(self._model_call), methods=["POST"]),
        ]
        return Starlette(routes=routes, exception_handlers={404: self.not_found})

    def check_headers(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme == "Bearer" and self.minter.is_valid(token):
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
        del param, request_id, code  # Google errors name none of them
        status, google_status, default = _ERRORS[failure]
        error = {"code": status, "message": message or default, "status": google_status}
        return status, {"error": error}

    async def _token(self, request: Request) -> Response:
        form = dict(urllib.parse.parse_qsl((await request.body()).decode()))
        try:
            body = self.minter.grant(form, self.token_uri)
        except GrantError as exc:
            answer = {"error": "invalid_grant", "error_description": str(exc)}
            return JSONResponse(answer, status_code=400)
        return JSONResponse(body)

    async def _model_call(self, request: Request) -> Response:
        model, _, action = request.path_params["call"].partition(":")
        streamed = action == "streamGenerateContent"
        if action not in ("generateContent", "streamGenerateContent"):
            return self.error_response(Failure.NOT_FOUND)
        if streamed and request.query_params.get("alt") != "sse":
            message = "This fake serves streamGenerateContent only with alt=sse."
            return self.error_response(Failure.INVALID_REQUEST, message)
        body = await self.read_object(request)
        if isinstance(body, Response):
            return body
        if not objects_in(list_field(body, "contents")):
            return self.error_response(
                Failure.INVALID_REQUEST, "Please ensure that contents is non-empty."
            )
        failure = failure_for(behaviour_for(model))
        if failure is not None:
            return self.error_response(failure)
        await self.hang_if_asked(request, model)
        prompt = prompt_from_gemini(body)
        answer = plan_answer(prompt, parallel=is_parallel(model), call_id_prefix="")
        config = as_object(proto_field(body, "generationConfig"))
        answer = _with_thinking(answer, prompt, config)
        response_id = self.next_id("resp-")
        behaviour = behaviour_for(model)
        if streamed:
            events = [SseEvent(dump_json(c)) for c in stream_chunks(answer, model, response_id)]
            return stream_response(events, behaviour, self.stream_gate, self.response_headers())
        encoded = dump_json(whole_answer(answer, model, response_id)).encode()
        return await body_response(encoded, behaviour, self.response_headers())


def proto_field(obj: JsonObject, name: str) -> object:
    """Field `name` (lowerCamelCase) of a request object, or under its proto name.

    Proto3 JSON parsers accept both spellings, and google-genai sends some fields
    under their proto names on Vertex (`parameters_json_schema`, `thinking_budget`).
    """
    if name in obj:
        return obj[name]
    return obj.get(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name))


def prompt_from_gemini(body: JsonObject) -> Prompt:
    """The answer-deciding facts of a GenerateContentRequest."""
    contents = objects_in(list_field(body, "contents"))
    last_parts = objects_in(list_field(contents[-1], "parts")) if contents else []
    declarations = [
        declaration
        for tool in objects_in(list_field(body, "tools"))
        for declaration in objects_in(_list(proto_field(tool, "functionDeclarations")))
    ]
    return Prompt(
        last_text="".join(
            str_field(p, "text") or "" for p in last_parts if p.get("thought") is not True
        ),
        ends_with_tool_result=any(proto_field(p, "functionResponse") for p in last_parts),
        tools=tuple(_tool_spec(d) for d in declarations),
        text_chars=count_text_chars(contents)
        + count_text_chars(proto_field(body, "systemInstruction")),
    )


def _list(value: object) -> list[object]:
    return cast("list[object]", value) if isinstance(value, list) else []


def _with_thinking(answer: Answer, prompt: Prompt, config: JsonObject) -> Answer:
    """Thinking when `thinkingConfig` asks for it (a budget other than 0): counted in
    `thoughtsTokenCount`, shown as `thought` parts only with `includeThoughts`."""
    thinking = as_object(proto_field(config, "thinkingConfig"))
    if not thinking or proto_field(thinking, "thinkingBudget") == 0:
        return answer
    text = thinking_text(prompt)
    shown = text if proto_field(thinking, "includeThoughts") is True else None
    return with_reasoning(answer, shown, estimate_tokens(len(text)))


def _tool_spec(declaration: JsonObject) -> ToolSpec:
    schema = proto_field(declaration, "parametersJsonSchema") or declaration.get("parameters")
    return ToolSpec(str_field(declaration, "name") or "", _lowercase_types(as_object(schema)))


def _lowercase_types(schema: JsonObject) -> JsonObject:
    """The OpenAPI-subset `parameters` spell types `STRING`; JSON Schema `string`."""
    properties = object_field(schema, "properties")
    lowered = {
        name: {**as_object(p), "type": str(as_object(p).get("type", "")).lower()}
        for name, p in properties.items()
    }
    return {**schema, "properties": lowered} if properties else schema


def _parts(answer: Answer) -> list[JsonObject]:
    thoughts: list[JsonObject] = []
    if answer.reasoning is not None:
        thoughts.append({"text": answer.reasoning, "thought": True})
    return thoughts + _answer_parts(answer)


def _answer_parts(answer: Answer) -> list[JsonObject]:
    calls: list[JsonObject] = [
        {"functionCall": {"name": call.name, "args": call.arguments}} for call in answer.tool_calls
    ]
    if calls:
        calls[0]["thoughtSignature"] = THOUGHT_SIGNATURE
        return calls
    return [{"text": answer.text}]


def _usage(answer: Answer, *, final: bool) -> JsonObject:
    prompt = answer.input_tokens
    if not final:
        return {"promptTokenCount": prompt, "totalTokenCount": prompt, "trafficType": "ON_DEMAND"}
    # candidatesTokenCount leaves the thoughts out (WIRE-FORMATS 5.3).
    usage: JsonObject = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": answer.output_tokens - answer.reasoning_tokens,
        "totalTokenCount": prompt + answer.output_tokens,
        "trafficType": "ON_DEMAND",
    }
    if answer.reasoning_tokens:
        usage["thoughtsTokenCount"] = answer.reasoning_tokens
    return usage


def _envelope(model: str, response_id: str) -> JsonObject:
    created = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    return {"modelVersion": model, "createTime": created, "responseId": response_id}


def whole_answer(answer: Answer, model: str, response_id: str) -> JsonObject:
    """A GenerateContentResponse holding all of `answer`."""
    candidate = {
        "content": {"role": "model", "parts": _parts(answer)},
        "finishReason": "STOP",
        "avgLogprobs": -0.1,
    }
    return {
        "candidates": [candidate],
        "usageMetadata": _usage(answer, final=True),
        **_envelope(model, response_id),
    }


def stream_chunks(answer: Answer, model: str, response_id: str) -> list[JsonObject]:
    """`alt=sse` chunks: text in fragments (calls whole), usage grows, the last one finishes."""
    pieces: list[list[JsonObject]] = [
        [{"text": fragment, "thought": True}]
        for fragment in split_fragments(answer.reasoning or "")
    ]
    if answer.tool_calls:
        pieces += [[part] for part in _answer_parts(answer)]
    else:
        pieces += [[{"text": fragment}] for fragment in split_fragments(answer.text)]
    chunks: list[JsonObject] = []
    for position, parts in enumerate(pieces):
        final = position == len(pieces) - 1
        candidate: JsonObject = {"content": {"role": "model", "parts": parts}}
        if final:
            candidate["finishReason"] = "STOP"
        chunk = {"candidates": [candidate], "usageMetadata": _usage(answer, final=final)}
        chunks.append({**chunk, **_envelope(model, response_id)})
    return chunks
