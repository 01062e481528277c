"""The fake Bedrock, checked through boto3's `bedrock-runtime` client (botocore's own
SigV4 signer, JSON parser and event-stream parser) pointed straight at it."""

import json
from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
import httpx
import pytest
from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    ClientError,
    EventStreamError,
)
from urllib3.exceptions import ProtocolError

from dome.errors import UpstreamStreamError
from dome.wire.bedrock import ConverseStreamDecoder, decode_converse_response
from dome.wire.canonical import MessageStop, TextBlock, TextDelta, ToolArgumentsDelta
from tests.fakes.answers import estimate_tokens
from tests.fakes.bedrock_upstream import FakeBedrock
from tests.fakes.payload import count_text_chars
from tests.fakes.reasoning import is_signed

CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
HELLO: list[dict[str, Any]] = [{"role": "user", "content": [{"text": "hello"}]}]
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
}
TOOL_CONFIG = {
    "tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": WEATHER_SCHEMA}}}]
}


@pytest.fixture(scope="module")
def fake_bedrock() -> Iterator[FakeBedrock]:
    with FakeBedrock().serve() as fake:
        yield fake


class Clients:
    """Makes boto3 clients for a test and closes their connection pools after it."""

    def __init__(self) -> None:
        self._made: list[Any] = []

    def make(
        self,
        fake: FakeBedrock,
        *,
        secret: str | None = None,
        token: str | None = None,
        access_key: str | None = None,
        region: str | None = None,
    ) -> Any:
        client = boto3.client(
            "bedrock-runtime",
            region_name=region or fake.region,
            endpoint_url=fake.url,
            aws_access_key_id=access_key or fake.api_key,
            aws_secret_access_key=secret or fake.secret_key,
            aws_session_token=token,
            config=Config(retries={"total_max_attempts": 1}),
        )
        self._made.append(client)
        return client

    def close(self) -> None:
        for client in self._made:
            client.close()


@pytest.fixture
def clients() -> Iterator[Clients]:
    made = Clients()
    yield made
    made.close()


@pytest.fixture
def bedrock(fake_bedrock: FakeBedrock, clients: Clients) -> Any:
    fake_bedrock.reset()
    return clients.make(fake_bedrock)


def _signed_post(http: httpx.Client, fake: FakeBedrock, path: str, body: bytes) -> bytes:
    """POST `body`, signed by botocore's SigV4 signer as the broker will sign it."""
    url = fake.url + path
    request = AWSRequest(
        method="POST", url=url, data=body, headers={"content-type": "application/json"}
    )
    credentials = Credentials(fake.api_key, fake.secret_key)
    SigV4Auth(credentials, "bedrock", fake.region).add_auth(request)
    response = http.post(url, content=body, headers=dict(request.headers.items()))
    assert response.status_code == 200, response.text
    return response.content


def _stream_events(client: Any, model: str, **extra: Any) -> list[dict[str, Any]]:
    response = client.converse_stream(modelId=model, messages=HELLO, **extra)
    return list(response["stream"])


def test_converse_answers_text_with_usage(bedrock: Any, fake_bedrock: FakeBedrock) -> None:
    response = bedrock.converse(modelId=CLAUDE, messages=HELLO, inferenceConfig={"maxTokens": 50})

    assert response["output"]["message"] == {
        "role": "assistant",
        "content": [{"text": "echo: hello"}],
    }
    assert response["stopReason"] == "end_turn"
    assert response["usage"]["inputTokens"] == estimate_tokens(count_text_chars(HELLO))
    assert response["usage"]["outputTokens"] == estimate_tokens(len("echo: hello"))
    # botocore percent-encodes the model id in the path; the signature covered it.
    recorded = fake_bedrock.last_request
    assert recorded.path == f"/model/{CLAUDE}/converse"
    assert recorded.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert json.loads(recorded.body)["inferenceConfig"] == {"maxTokens": 50}


def test_converse_calls_tools(bedrock: Any) -> None:
    response = bedrock.converse(modelId="ok", messages=HELLO, toolConfig=TOOL_CONFIG)

    content = response["output"]["message"]["content"]
    assert response["stopReason"] == "tool_use"
    assert [block["toolUse"]["name"] for block in content] == ["get_weather"]
    assert content[0]["toolUse"]["input"] == {"city": "example", "days": 1}


def test_converse_answers_the_tool_result(bedrock: Any) -> None:
    messages = [
        *HELLO,
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {}}}],
        },
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "sunny"}]}}],
        },
    ]

    response = bedrock.converse(modelId="ok", messages=messages, toolConfig=TOOL_CONFIG)

    assert response["output"]["message"]["content"] == [{"text": "echo: sunny"}]


def test_thinking_opens_with_signed_reasoning(bedrock: Any) -> None:
    thinking = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    response = bedrock.converse(
        modelId=CLAUDE, messages=HELLO, additionalModelRequestFields=thinking
    )

    first = response["output"]["message"]["content"][0]["reasoningContent"]["reasoningText"]
    assert is_signed(first["text"], first["signature"])


def test_converse_stream_sends_bedrock_event_order(bedrock: Any) -> None:
    events = _stream_events(bedrock, CLAUDE)

    names = [next(iter(event)) for event in events]
    assert names[0] == "messageStart"
    assert names[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    assert "contentBlockStart" not in names  # text blocks open with their first delta
    text = "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e
    )
    assert text == "echo: hello"
    assert events[-1]["metadata"]["usage"]["outputTokens"] == estimate_tokens(len(text))


def test_converse_stream_streams_tool_arguments(bedrock: Any) -> None:
    events = _stream_events(bedrock, "ok-parallel", toolConfig=TOOL_CONFIG)

    starts = [e["contentBlockStart"] for e in events if "contentBlockStart" in e]
    assert [s["start"]["toolUse"]["name"] for s in starts] == ["get_weather", "get_weather"]
    for start in starts:
        index = start["contentBlockIndex"]
        fragments = [
            e["contentBlockDelta"]["delta"]["toolUse"]["input"]
            for e in events
            if "contentBlockDelta" in e and e["contentBlockDelta"]["contentBlockIndex"] == index
        ]
        assert json.loads("".join(fragments)) == {"city": "example", "days": 1}
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("error-400", 400, "ValidationException"),
        ("error-429", 429, "ThrottlingException"),
        ("error-500", 500, "InternalServerException"),
        ("error-529", 503, "ServiceUnavailableException"),
    ],
)
def test_errors_reach_boto3_as_modelled_exceptions(
    bedrock: Any, model: str, status: int, code: str
) -> None:
    with pytest.raises(ClientError) as caught:
        bedrock.converse(modelId=model, messages=HELLO)

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert caught.value.response["Error"]["Code"] == code
    with pytest.raises(ClientError) as streamed:
        bedrock.converse_stream(modelId=model, messages=HELLO)
    assert streamed.value.response["Error"]["Code"] == code


def test_stream_exception_arrives_inside_a_200_stream(bedrock: Any) -> None:
    response = bedrock.converse_stream(modelId="stream-overloaded", messages=HELLO)

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(EventStreamError, match="serviceUnavailableException"):
        list(response["stream"])
    response["stream"].close()


def test_cut_stream_breaks_the_sdk(bedrock: Any) -> None:
    response = bedrock.converse_stream(modelId="stream-cut", messages=HELLO)

    # botocore's event stream reads urllib3's raw body, whose error it does not wrap.
    with pytest.raises(ProtocolError, match="ended prematurely"):
        list(response["stream"])
    response["stream"].close()


def test_stream_truncated_clean_ends_without_metadata(bedrock: Any) -> None:
    events = _stream_events(bedrock, "stream-truncated-clean")

    assert next(iter(events[0])) == "messageStart"
    assert not [event for event in events if "metadata" in event or "messageStop" in event]


def test_bad_json_stream_is_well_framed_but_unreadable(
    bedrock: Any, fake_bedrock: FakeBedrock
) -> None:
    # botocore drops an event payload it cannot parse (the event arrives empty);
    # the broker's decoder refuses it.
    events = _stream_events(bedrock, "bad-json")

    assert events == [{"messageStart": {"role": "assistant"}}, {"contentBlockDelta": {}}]
    body = json.dumps({"messages": HELLO}).encode()
    with httpx.Client() as http:
        raw = _signed_post(http, fake_bedrock, "/model/bad-json/converse-stream", body)
    with pytest.raises(UpstreamStreamError, match="invalid JSON"):
        ConverseStreamDecoder().feed(raw)


def test_thinking_streams_reasoning_deltas_with_a_signature(bedrock: Any) -> None:
    thinking = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    events = _stream_events(bedrock, CLAUDE, additionalModelRequestFields=thinking)

    reasoning = [
        e["contentBlockDelta"]["delta"]["reasoningContent"]
        for e in events
        if "contentBlockDelta" in e and e["contentBlockDelta"]["contentBlockIndex"] == 0
    ]
    text = "".join(part.get("text", "") for part in reasoning)
    assert is_signed(text, reasoning[-1]["signature"])


def test_a_wrong_secret_is_a_signature_error(fake_bedrock: FakeBedrock, clients: Clients) -> None:
    client = clients.make(fake_bedrock, secret="not-the-secret")

    with pytest.raises(ClientError) as caught:
        client.converse(modelId=CLAUDE, messages=HELLO)

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert "signature we calculated does not match" in caught.value.response["Error"]["Message"]


def test_a_tampered_body_fails_the_signature(fake_bedrock: FakeBedrock, clients: Clients) -> None:
    client = clients.make(fake_bedrock)

    def tamper(request: Any, **_: Any) -> None:
        request.body = request.body.replace(b"hello", b"hellO")

    client.meta.events.register("before-send.bedrock-runtime.Converse", tamper)
    with pytest.raises(ClientError) as caught:
        client.converse(modelId=CLAUDE, messages=HELLO)

    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_an_unknown_access_key_is_unrecognized(fake_bedrock: FakeBedrock, clients: Clients) -> None:
    client = clients.make(fake_bedrock, access_key="AKIDSOMEONEELSE00000")

    with pytest.raises(ClientError) as caught:
        client.converse(modelId=CLAUDE, messages=HELLO)

    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_another_region_is_refused(fake_bedrock: FakeBedrock, clients: Clients) -> None:
    client = clients.make(fake_bedrock, region="eu-west-1")

    with pytest.raises(ClientError) as caught:
        client.converse(modelId=CLAUDE, messages=HELLO)

    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_unsigned_requests_are_refused(fake_bedrock: FakeBedrock) -> None:
    response = httpx.post(f"{fake_bedrock.url}/model/ok/converse", json={"messages": HELLO})

    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert response.json() == {"message": "Missing Authentication Token"}


def test_session_credentials_must_carry_their_token(clients: Clients) -> None:
    with FakeBedrock(session_token="session-token-1").serve() as fake:
        assert clients.make(fake, token="session-token-1").converse(modelId="ok", messages=HELLO)
        with pytest.raises(ClientError) as caught:
            clients.make(fake).converse(modelId="ok", messages=HELLO)
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_the_codec_reads_the_fakes_stream(fake_bedrock: FakeBedrock) -> None:
    """The wire codec on the bytes the fake served, signed as the provider will sign."""
    fake_bedrock.reset()
    body = json.dumps({"messages": HELLO, "toolConfig": TOOL_CONFIG}).encode()
    with httpx.Client() as http:
        raw = _signed_post(http, fake_bedrock, f"/model/{CLAUDE}/converse-stream", body)

    decoder = ConverseStreamDecoder("rid", CLAUDE)
    events = [
        event for start in range(0, len(raw), 7) for event in decoder.feed(raw[start : start + 7])
    ]

    assert decoder.complete
    assert events[-1] == MessageStop()
    arguments = "".join(e.partial_json for e in events if isinstance(e, ToolArgumentsDelta))
    assert json.loads(arguments) == {"city": "example", "days": 1}
    assert not [e for e in events if isinstance(e, TextDelta)]


def test_the_codec_reads_the_fakes_converse_body(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.reset()
    with httpx.Client() as http:
        raw = _signed_post(
            http, fake_bedrock, "/model/ok/converse", json.dumps({"messages": HELLO}).encode()
        )

    response = decode_converse_response(raw, response_id="rid", model="ok")

    assert response.content == (TextBlock("echo: hello"),)
    assert response.stop_reason == "end_turn"
    assert response.usage.output_tokens == estimate_tokens(len("echo: hello"))
