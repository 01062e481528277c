"""A fake Bedrock Runtime: Converse and ConverseStream, behind a verified SigV4 signature.

Every request must carry an `AWS4-HMAC-SHA256` signature for service `bedrock` in the
fake's region, by its access key; the fake recomputes it with botocore's signer over
the method, raw path, signed headers and body it received, as AWS does (WIRE-FORMATS
4.1), and answers 403 with AWS's error shape otherwise. Answers use the Converse JSON
shape; streams real `application/vnd.amazon.eventstream` frames (`bedrock_frames`).
"""

import hmac
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import ClassVar

from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.answers import Answer, plan_answer, with_reasoning
from tests.fakes.bedrock_events import converse_response, prompt_from_converse, stream_frames
from tests.fakes.bedrock_frames import exception_frame, frame
from tests.fakes.behaviour import (
    ERROR_400_PARAM,
    Behaviour,
    Failure,
    behaviour_for,
    failure_for,
    is_parallel,
)
from tests.fakes.delivery import BAD_JSON, StreamCutError, body_response, partial_count
from tests.fakes.payload import JsonObject, dump_json, list_field, object_field, str_field
from tests.fakes.reasoning import thinking_text
from tests.fakes.upstream import FakeUpstream

DEFAULT_ACCESS_KEY = "AKIDFAKEBEDROCK00001"
DEFAULT_SECRET_KEY = "fake/bedrock/secret/key/0000000000000000"
DEFAULT_REGION = "us-east-1"
SERVICE = "bedrock"
"""SigV4 service name of Bedrock Runtime (not `bedrock-runtime`)."""

EVENTSTREAM_MEDIA_TYPE = "application/vnd.amazon.eventstream"
_EVENT_HEADERS = {
    ":event-type": "contentBlockDelta",
    ":content-type": "application/json",
    ":message-type": "event",
}
"""Headers of the well-framed event whose payload `bad-json` breaks."""
ERROR_TYPE_HEADER = "x-amzn-ErrorType"

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, ?SignedHeaders=(?P<headers>[a-z0-9;-]+), ?"
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass(frozen=True, slots=True)
class _ErrorSpec:
    status: int
    exception: str
    message: str


# Status and exception per WIRE-FORMATS 4.6.
_ERRORS: dict[Failure, _ErrorSpec] = {
    Failure.INVALID_REQUEST: _ErrorSpec(400, "ValidationException", "Malformed input request."),
    Failure.UNAUTHENTICATED: _ErrorSpec(
        403, "UnrecognizedClientException", "The security token included in the request is invalid."
    ),
    Failure.NOT_FOUND: _ErrorSpec(404, "ResourceNotFoundException", "Model not found."),
    Failure.RATE_LIMITED: _ErrorSpec(
        429, "ThrottlingException", "Too many requests, please wait before trying again."
    ),
    Failure.SERVER_ERROR: _ErrorSpec(500, "InternalServerException", "Internal server error."),
    Failure.OVERLOADED: _ErrorSpec(
        503, "ServiceUnavailableException", "Bedrock is unable to process your request."
    ),
}

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


class FakeBedrock(FakeUpstream):
    """Serves `POST /model/{modelId}/converse` and `/converse-stream`.

    `api_key` is the access key id; `secret_key` and `session_token` (when set) must
    match what the client signs with.
    """

    request_id_header: ClassVar[str] = "x-amzn-RequestId"

    def __init__(
        self,
        access_key: str = DEFAULT_ACCESS_KEY,
        secret_key: str = DEFAULT_SECRET_KEY,
        region: str = DEFAULT_REGION,
        session_token: str | None = None,
    ) -> None:
        self.secret_key = secret_key
        self.region = region
        self.session_token = session_token
        super().__init__(access_key)

    def build_app(self) -> Starlette:
        routes = [
            Route("/model/{model_id:path}/converse", self._converse, methods=["POST"]),
            Route(
                "/model/{model_id:path}/converse-stream", self._converse_stream, methods=["POST"]
            ),
        ]
        return Starlette(routes=routes, exception_handlers={404: self.not_found})

    def check_headers(self, request: Request) -> Response | None:
        """Nothing beyond the signature, which needs the body: see `_verify`."""
        del request
        return None

    def render_error(
        self,
        failure: Failure,
        message: str | None,
        param: str | None,
        request_id: str,
        code: str | None = None,
    ) -> tuple[int, JsonObject]:
        del request_id, code
        spec = _ERRORS[failure]
        text = message or spec.message
        return spec.status, {"message": f"{param}: {text}" if param else text}

    def error_response(
        self,
        failure: Failure,
        message: str | None = None,
        param: str | None = None,
        code: str | None = None,
    ) -> JSONResponse:
        response = super().error_response(failure, message, param, code)
        response.headers[ERROR_TYPE_HEADER] = _ERRORS[failure].exception
        return response

    def aws_error(self, status: int, exception: str, message: str) -> JSONResponse:
        """An error outside the behaviour table (signature checks)."""
        headers = {ERROR_TYPE_HEADER: exception, self.request_id_header: self.next_id("req_")}
        return JSONResponse({"message": message}, status_code=status, headers=headers)

    async def _converse(self, request: Request) -> Response:
        admitted = await self._admit(request)
        if isinstance(admitted, Response):
            return admitted
        model, body = admitted
        await self.hang_if_asked(request, model)
        encoded = dump_json(converse_response(self.answer_for(body, model))).encode()
        return await body_response(encoded, behaviour_for(model), self.response_headers())

    async def _converse_stream(self, request: Request) -> Response:
        admitted = await self._admit(request)
        if isinstance(admitted, Response):
            return admitted
        model, body = admitted
        await self.hang_if_asked(request, model)
        frames = stream_frames(self.answer_for(body, model))
        behaviour = behaviour_for(model)
        if behaviour is Behaviour.STREAM_OVERLOADED:
            message = _ERRORS[Failure.OVERLOADED].message
            frames = [frames[0], exception_frame("serviceUnavailableException", message)]
        elif behaviour is Behaviour.BAD_JSON:
            frames = [frames[0], frame(_EVENT_HEADERS, BAD_JSON.encode())]
        elif behaviour in (Behaviour.STREAM_CUT, Behaviour.STREAM_TRUNCATED_CLEAN):
            frames = frames[: partial_count(len(frames))]
        cut = behaviour is Behaviour.STREAM_CUT
        return StreamingResponse(
            self._send(frames, cut=cut),
            headers=self.response_headers(),
            media_type=EVENTSTREAM_MEDIA_TYPE,
        )

    async def _send(self, frames: list[bytes], *, cut: bool) -> AsyncIterator[bytes]:
        for position, data in enumerate(frames):
            yield data
            if position == 0:
                await self.stream_gate.passage()
        if cut:
            message = "fake upstream cut the stream on purpose (behaviour stream-cut)"
            raise StreamCutError(message)

    async def _admit(self, request: Request) -> tuple[str, JsonObject] | Response:
        """(model id, body) of a correctly signed request, or the error AWS would answer."""
        raw = await request.body()
        denied = self._verify(request, raw)
        if denied is not None:
            return denied
        body = await self.read_object(request)
        if isinstance(body, Response):
            return body
        if not list_field(body, "messages"):
            return self.error_response(Failure.INVALID_REQUEST, "messages must not be empty")
        model = str(request.path_params["model_id"])
        failure = failure_for(behaviour_for(model))
        if failure is not None:
            param = ERROR_400_PARAM if failure is Failure.INVALID_REQUEST else None
            return self.error_response(failure, param=param)
        return model, body

    def answer_for(self, body: JsonObject, model: str) -> Answer:
        """What the fake model answers to a Converse `body` sent to `model`."""
        prompt = prompt_from_converse(body)
        prefix = self.next_id("tooluse_") + "_"
        answer = plan_answer(prompt, parallel=is_parallel(model), call_id_prefix=prefix)
        thinking = object_field(object_field(body, "additionalModelRequestFields"), "thinking")
        if str_field(thinking, "type") == "enabled":
            answer = with_reasoning(answer, thinking_text(prompt))
        return answer

    def _verify(self, request: Request, body: bytes) -> Response | None:
        """None when the SigV4 signature is the one botocore computes with our secret."""
        authorization = request.headers.get("authorization")
        if authorization is None:
            return self.aws_error(
                403, "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        match = _AUTHORIZATION.fullmatch(authorization)
        if match is None:
            return self.aws_error(
                403, "IncompleteSignatureException", "Authorization header is malformed."
            )
        if match["key"] != self.api_key:
            return self.error_response(Failure.UNAUTHENTICATED)
        if match["service"] != SERVICE or match["region"] != self.region:
            message = f"Credential should be scoped to a valid region and to service '{SERVICE}'."
            return self.aws_error(403, "InvalidSignatureException", message)
        signed = match["headers"].split(";")
        missing = [name for name in ("host", "x-amz-date") if name not in signed]
        token = request.headers.get("x-amz-security-token")
        if (
            missing
            or token != self.session_token
            or (token is not None and "x-amz-security-token" not in signed)
        ):
            return self.aws_error(403, "InvalidSignatureException", SIGNATURE_MISMATCH)
        expected = self._signature(request, body, signed)
        if expected is None or not hmac.compare_digest(expected, match["signature"]):
            return self.aws_error(403, "InvalidSignatureException", SIGNATURE_MISMATCH)
        return None

    def _signature(self, request: Request, body: bytes, signed: list[str]) -> str | None:
        """botocore's signature over what arrived: raw (still percent-encoded) path,
        query, the headers the client says it signed, the body."""
        if any(name not in request.headers for name in signed):
            return None
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.url.query
        url = f"http://{request.headers['host']}{raw_path.decode()}" + (
            f"?{query}" if query else ""
        )
        headers = {name: request.headers[name] for name in signed}
        aws_request = AWSRequest(method=request.method, url=url, headers=headers, data=body)
        aws_request.context["timestamp"] = request.headers["x-amz-date"]
        signer = SigV4Auth(
            Credentials(self.api_key, self.secret_key, self.session_token), SERVICE, self.region
        )
        canonical = signer.canonical_request(aws_request)
        signature = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        return str(signature)
