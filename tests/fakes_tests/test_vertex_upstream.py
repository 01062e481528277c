"""The fake Vertex AI, checked through google-auth and the official google-genai SDK."""

import base64
from collections.abc import Iterator, Mapping

import google.auth.transport.requests
import httpx
import orjson
import pytest
from google import genai
from google.auth.exceptions import RefreshError
from google.genai import errors as genai_errors
from google.genai import types
from google.oauth2 import service_account

from dome.wire.canonical import (
    Message,
    MessageDelta,
    Reasoning,
    Request,
    TextBlock,
    TextDelta,
    ThinkingDelta,
    Tool,
    ToolCallBlock,
)
from dome.wire.gemini import (
    GenerateContentStreamDecoder,
    decode_generate_content,
    encode_generate_content,
)
from tests.fakes.answers import estimate_tokens
from tests.fakes.google_oauth import CLOUD_PLATFORM_SCOPE, new_service_account
from tests.fakes.vertex_upstream import THOUGHT_SIGNATURE, FakeVertex

PROJECT = "fake-project"
LOCATION = "us-central1"
WEATHER = types.FunctionDeclaration(
    name="get_weather",
    parameters_json_schema={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)
TOOLS_CONFIG = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])])


@pytest.fixture(scope="module")
def fake_vertex() -> Iterator[FakeVertex]:
    with FakeVertex().serve() as fake:
        yield fake


@pytest.fixture
def credentials(fake_vertex: FakeVertex) -> service_account.Credentials:
    fake_vertex.reset()
    return _credentials(fake_vertex.service_account.info, CLOUD_PLATFORM_SCOPE)


@pytest.fixture
def client(fake_vertex: FakeVertex, credentials: service_account.Credentials) -> genai.Client:
    options = types.HttpOptions(base_url=fake_vertex.url, api_version="v1")
    return genai.Client(
        vertexai=True,
        project=PROJECT,
        location=LOCATION,
        credentials=credentials,
        http_options=options,
    )


def _credentials(info: dict[str, str], scope: str) -> service_account.Credentials:
    # google-auth ships no type hints.
    credentials: service_account.Credentials = (
        service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=[scope]
        )
    )
    return credentials


def _refresh(credentials: service_account.Credentials) -> None:
    credentials.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]


def _model_path(model: str, action: str) -> str:
    return f"/v1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{model}:{action}"


def _token(credentials: service_account.Credentials) -> str:
    _refresh(credentials)
    token = credentials.token
    assert isinstance(token, str)
    return token


def test_service_account_credentials_refresh_at_the_fake(
    fake_vertex: FakeVertex, credentials: service_account.Credentials
) -> None:
    token = _token(credentials)

    assert fake_vertex.minter.is_valid(token)
    assert credentials.valid
    grant = fake_vertex.last_request_to("/token")
    assert b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in grant.body


def test_an_assertion_signed_by_another_key_is_refused(fake_vertex: FakeVertex) -> None:
    impostor = new_service_account(fake_vertex.token_uri)
    info = {**impostor.info, "client_email": fake_vertex.service_account.client_email}
    credentials = _credentials(info, CLOUD_PLATFORM_SCOPE)

    with pytest.raises(RefreshError, match="Invalid JWT Signature"):
        _refresh(credentials)


def test_an_assertion_without_the_cloud_platform_scope_is_refused(fake_vertex: FakeVertex) -> None:
    credentials = _credentials(
        fake_vertex.service_account.info, "https://www.googleapis.com/auth/drive"
    )

    with pytest.raises(RefreshError, match="scope"):
        _refresh(credentials)


def test_generate_content_text(fake_vertex: FakeVertex, client: genai.Client) -> None:
    response = client.models.generate_content(model="gemini-ok", contents="hello")

    assert response.text == "echo: hello"
    assert response.candidates is not None
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    usage = response.usage_metadata
    assert usage is not None
    assert usage.total_token_count == (usage.prompt_token_count or 0) + (
        usage.candidates_token_count or 0
    )
    sent = fake_vertex.last_request
    assert sent.path == _model_path("gemini-ok", "generateContent")
    assert sent.headers["authorization"].startswith("Bearer ya29.fake-")


def test_generate_content_function_call(client: genai.Client) -> None:
    response = client.models.generate_content(
        model="gemini-ok", contents="weather?", config=TOOLS_CONFIG
    )

    calls = response.function_calls
    assert calls is not None
    assert [(call.name, call.args, call.id) for call in calls] == [
        ("get_weather", {"city": "example"}, None)
    ]
    assert response.candidates is not None
    content = response.candidates[0].content
    assert content is not None
    assert content.parts is not None
    signature = content.parts[0].thought_signature
    assert signature is not None
    assert base64.b64encode(signature).decode() == THOUGHT_SIGNATURE


def test_function_response_gets_a_text_answer(client: genai.Client) -> None:
    history = [
        types.Content(role="user", parts=[types.Part.from_text(text="weather?")]),
        types.Content(
            role="model",
            parts=[types.Part.from_function_call(name="get_weather", args={"city": "x"})],
        ),
        types.Content(
            role="user",
            parts=[
                types.Part.from_function_response(name="get_weather", response={"output": "18C"})
            ],
        ),
    ]

    response = client.models.generate_content(
        model="gemini-ok", contents=history, config=TOOLS_CONFIG
    )

    assert response.function_calls is None
    assert response.text == "echo: "


def test_thinking_is_shown_and_counted_apart(client: genai.Client) -> None:
    thinking = types.ThinkingConfig(thinking_budget=1024, include_thoughts=True)
    config = types.GenerateContentConfig(thinking_config=thinking)

    response = client.models.generate_content(model="gemini-ok", contents="hello", config=config)

    assert response.candidates is not None
    content = response.candidates[0].content
    assert content is not None
    assert content.parts is not None
    assert [(part.thought, part.text) for part in content.parts] == [
        (True, "thinking about: hello"),
        (None, "echo: hello"),
    ]
    usage = response.usage_metadata
    assert usage is not None
    assert usage.thoughts_token_count == estimate_tokens(len("thinking about: hello"))
    assert usage.candidates_token_count == estimate_tokens(len("echo: hello"))
    assert usage.total_token_count == (
        (usage.prompt_token_count or 0) + usage.candidates_token_count + usage.thoughts_token_count
    )


def test_thinking_budget_zero_thinks_not(client: genai.Client) -> None:
    thinking = types.ThinkingConfig(thinking_budget=0)
    config = types.GenerateContentConfig(thinking_config=thinking)

    response = client.models.generate_content(model="gemini-ok", contents="hello", config=config)

    assert response.usage_metadata is not None
    assert response.usage_metadata.thoughts_token_count is None
    assert response.text == "echo: hello"


def test_generate_content_stream(fake_vertex: FakeVertex, client: genai.Client) -> None:
    chunks = list(client.models.generate_content_stream(model="gemini-ok", contents="hello"))

    assert len(chunks) > 1
    assert "".join(chunk.text or "" for chunk in chunks) == "echo: hello"
    last = chunks[-1]
    assert last.candidates is not None
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata is not None
    assert last.usage_metadata.candidates_token_count
    sent = fake_vertex.last_request
    assert sent.path == _model_path("gemini-ok", "streamGenerateContent")
    assert sent.query == "alt=sse"


def test_generate_content_stream_parallel_calls(client: genai.Client) -> None:
    chunks = list(
        client.models.generate_content_stream(
            model="gemini-parallel", contents="weather?", config=TOOLS_CONFIG
        )
    )

    calls = [call for chunk in chunks for call in chunk.function_calls or []]
    assert [call.name for call in calls] == ["get_weather", "get_weather"]


@pytest.mark.parametrize(
    ("model", "error", "code", "status"),
    [
        ("gemini-error-429", genai_errors.ClientError, 429, "RESOURCE_EXHAUSTED"),
        ("gemini-error-400", genai_errors.ClientError, 400, "INVALID_ARGUMENT"),
        ("gemini-error-500", genai_errors.ServerError, 500, "INTERNAL"),
        ("gemini-error-529", genai_errors.ServerError, 503, "UNAVAILABLE"),
    ],
)
def test_error_behaviours(
    client: genai.Client, model: str, error: type[genai_errors.APIError], code: int, status: str
) -> None:
    with pytest.raises(error) as caught:
        client.models.generate_content(model=model, contents="hello")

    assert caught.value.code == code
    assert caught.value.status == status


def test_an_unknown_token_gets_401_in_google_shape(fake_vertex: FakeVertex) -> None:
    url = fake_vertex.model_url("gemini-ok", "generateContent")
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}

    response = httpx.post(url, json=body, headers={"authorization": "Bearer ya29.forged"})

    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (401, "UNAUTHENTICATED")


def _feed_stream(
    url: str,
    body: Mapping[str, object],
    headers: dict[str, str],
    decoder: GenerateContentStreamDecoder,
) -> None:
    with httpx.stream("POST", url, json=body, headers=headers) as response:
        for chunk in response.iter_bytes():
            decoder.feed(chunk)


def test_a_cut_stream_ends_without_finish_reason(
    fake_vertex: FakeVertex, credentials: service_account.Credentials
) -> None:
    url = fake_vertex.model_url("gemini-stream-cut", "streamGenerateContent") + "?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}
    headers = {"authorization": f"Bearer {_token(credentials)}"}
    decoder = GenerateContentStreamDecoder()

    with pytest.raises(httpx.RemoteProtocolError):
        _feed_stream(url, body, headers, decoder)

    assert not decoder.complete


def test_the_broker_codec_round_trips_through_the_fake(
    fake_vertex: FakeVertex, credentials: service_account.Credentials
) -> None:
    request = Request(
        "gemini-ok",
        (Message("user", (TextBlock("weather?"),)),),
        tools=(
            Tool(
                "get_weather",
                {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            ),
        ),
    )
    headers = {"authorization": f"Bearer {_token(credentials)}"}
    body = encode_generate_content(request)

    whole = httpx.post(
        fake_vertex.model_url("gemini-ok", "generateContent"), json=body, headers=headers
    )
    stream = httpx.post(
        fake_vertex.model_url("gemini-ok", "streamGenerateContent") + "?alt=sse",
        json=body,
        headers=headers,
    )

    answer = decode_generate_content(whole.content)
    assert answer.stop_reason == "tool_use"
    call = answer.content[-1]
    assert isinstance(call, ToolCallBlock)
    assert (call.name, orjson.loads(call.arguments)) == ("get_weather", {"city": "example"})
    decoder = GenerateContentStreamDecoder()
    events = decoder.feed(stream.content)
    assert decoder.complete
    assert not any(isinstance(event, TextDelta) for event in events)


def test_the_broker_codec_streams_thinking_through_the_fake(
    fake_vertex: FakeVertex, credentials: service_account.Credentials
) -> None:
    request = Request(
        "gemini-ok",
        (Message("user", (TextBlock("hello"),)),),
        reasoning=Reasoning(effort="low"),
        stream=True,
    )
    url = fake_vertex.model_url("gemini-ok", "streamGenerateContent") + "?alt=sse"
    headers = {"authorization": f"Bearer {_token(credentials)}"}

    answer = httpx.post(url, json=encode_generate_content(request), headers=headers)

    decoder = GenerateContentStreamDecoder()
    events = [
        event
        for size in range(0, len(answer.content), 5)
        for event in decoder.feed(answer.content[size : size + 5])
    ]
    assert decoder.complete
    thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert (thinking, text) == ("thinking about: hello", "echo: hello")
    final = next(e for e in events if isinstance(e, MessageDelta))
    assert final.stop_reason == "end_turn"
    assert final.usage.reasoning_tokens == estimate_tokens(len(thinking))
    assert final.usage.output_tokens == estimate_tokens(len(text)) + final.usage.reasoning_tokens
