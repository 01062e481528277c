"""Live figures through the running broker: `/metrics` agrees with the audit, and with
`OTEL_EXPORTER_OTLP_ENDPOINT` set every call reaches an OTLP/HTTP collector as a span."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import anthropic
import httpx
import openai
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.broker import HOST, BrokerProcess
from tests.integration.conftest import Wired

# (metric, labels as sorted pairs) -> value
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
TOKEN_COLUMNS = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cache_read": "cache_read_tokens",
    "cache_write": "cache_write_tokens",
    "reasoning": "reasoning_tokens",
}


def wait_for(check: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def scrape(url: str) -> tuple[httpx.Response, Samples]:
    response = httpx.get(url + "/metrics", timeout=10)  # no token: /metrics is open
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return response, samples


def series(samples: Samples, name: str, *keys: str) -> dict[tuple[str, ...], float]:
    """The samples of `name`, keyed by the values of `keys`, zeros left out."""
    found: dict[tuple[str, ...], float] = {}
    for (metric, labels), value in samples.items():
        if metric == name and value:
            by_name = dict(labels)
            found[tuple(by_name[key] for key in keys)] = value
    return found


def make_calls(wired: Wired) -> int:
    """A mix of endpoints, providers and outcomes; returns how many calls were made."""
    url = wired.broker.url
    with openai.OpenAI(base_url=url + "/v1", api_key=wired.token, max_retries=0) as client:
        for _ in range(2):
            client.chat.completions.create(
                model="gpt-prod", messages=[{"role": "user", "content": "count me"}]
            )
        list(
            client.chat.completions.create(
                model="gpt-prod",
                stream=True,
                messages=[{"role": "user", "content": "stream me"}],
            )
        )
        client.embeddings.create(model="gpt-prod", input=["embed me"])
        client.chat.completions.create(
            model="demo", messages=[{"role": "user", "content": "mock me"}]
        )
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(
                model="openai-error-400", messages=[{"role": "user", "content": "fail"}]
            )
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(
                model="no-such-model-from-the-agent", messages=[{"role": "user", "content": "x"}]
            )
    with anthropic.Anthropic(base_url=url, api_key=wired.token, max_retries=0) as claude:
        claude.messages.create(
            model="anthropic-prod",
            max_tokens=20,
            messages=[{"role": "user", "content": "hello there"}],
        )
    return 8


def test_metrics_agree_with_the_audit(wired: Wired) -> None:
    made = make_calls(wired)

    def audited() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = wired.broker.admin.call("GET", "/audit/calls?limit=1000")[
            "data"
        ]
        # A call whose end record is not written yet reads as "incomplete" (its start).
        ended = [row for row in rows if row["outcome"] != "incomplete"]
        return rows if len(ended) >= made else None

    rows = wait_for(audited)
    assert len(rows) == made
    response, samples = scrape(wired.broker.url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"

    def label_of(row: dict[str, Any]) -> tuple[str, str]:
        return (row["model_entry"] or "unrouted", row["provider"] or "none")

    calls = Counter((*label_of(r), r["outcome"], r["endpoint"]) for r in rows)
    assert series(samples, "dome_calls_total", "model", "provider", "outcome", "endpoint") == {
        key: float(count) for key, count in calls.items()
    }
    assert ("unrouted", "none", "rejected", "chat") in calls  # the unknown model
    assert "no-such-model-from-the-agent" not in response.text

    tokens: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        for kind, column in TOKEN_COLUMNS.items():
            tokens[(*label_of(row), kind)] += row[column] or 0
    expected_tokens = {key: float(count) for key, count in tokens.items() if count}
    assert series(samples, "dome_tokens_total", "model", "provider", "kind") == expected_tokens
    assert tokens["gpt-prod", "openai", "input"] > 0
    assert tokens["anthropic-prod", "anthropic", "output"] > 0

    cost: dict[tuple[str, ...], Decimal] = {}
    for row in rows:
        if row["cost_usd"]:
            cost[label_of(row)] = cost.get(label_of(row), Decimal(0)) + Decimal(row["cost_usd"])
    measured = series(samples, "dome_cost_usd_total", "model", "provider")
    assert measured.keys() == {key for key, value in cost.items() if value}
    for key, value in measured.items():
        assert value == pytest.approx(float(cost[key]))

    latency = Counter((*label_of(r), r["outcome"]) for r in rows)
    counted = series(samples, "dome_call_latency_seconds_count", "model", "provider", "outcome")
    assert counted == {key: float(count) for key, count in latency.items()}
    streamed = [r for r in rows if r["ttft_ms"] is not None]
    ttft = series(samples, "dome_time_to_first_token_seconds_count", "model", "provider")
    assert sum(ttft.values()) == len(streamed) > 0


def test_metrics_answers_only_get(wired: Wired) -> None:
    assert httpx.post(wired.broker.url + "/metrics", content=b"").status_code == 404


class OtlpCollector:
    """An OTLP/HTTP trace receiver on 127.0.0.1: keeps every span POSTed to /v1/traces."""

    def __init__(self) -> None:
        self.spans: list[tuple[dict[str, Any], Span]] = []  # (resource attributes, span)
        self.paths: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                collector.received(self.path, self.headers["content-type"], body)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()

    def received(self, path: str, content_type: str, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        with self._lock:
            self.paths.append(path)
            assert content_type == "application/x-protobuf"
            for resource_spans in request.resource_spans:
                resource = attributes(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend((resource, span) for span in scope_spans.spans)

    def span_of(self, call_id: str) -> tuple[dict[str, Any], Span] | None:
        with self._lock:
            for resource, span in self.spans:
                if attributes(span.attributes).get("dome.call_id") == call_id:
                    return resource, span
        return None

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def attributes(pairs: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    pair: KeyValue
    for pair in pairs:
        value: AnyValue = pair.value
        kind = value.WhichOneof("value")
        if kind == "array_value":
            found[pair.key] = tuple(
                getattr(v, v.WhichOneof("value")) for v in value.array_value.values
            )
        else:
            found[pair.key] = getattr(value, kind) if kind else None
    return found


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    with OtlpCollector() as running:
        yield running


def traced_broker(data_dir: Path, collector: OtlpCollector, delay_ms: int) -> BrokerProcess:
    broker = BrokerProcess(
        data_dir,
        {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": str(delay_ms)},
    )
    broker.wait_ready()
    admin = broker.admin
    admin.permit_all()
    admin.model("demo", "mock", model="mock-1")
    return broker


def call_once(broker: BrokerProcess, token: str) -> tuple[openai.types.CompletionUsage, str]:
    """One chat call to the mock model; its usage and its call id from the audit."""
    with openai.OpenAI(base_url=broker.url + "/v1", api_key=token, max_retries=0) as client:
        answer = client.chat.completions.create(
            model="demo", messages=[{"role": "user", "content": "trace me"}]
        )
    assert answer.usage is not None

    def audited() -> str | None:
        rows = broker.admin.call("GET", "/audit/calls?model=demo")["data"]
        return str(rows[0]["call_id"]) if rows else None

    return answer.usage, wait_for(audited)


def test_a_call_arrives_at_the_otlp_collector_as_a_gen_ai_span(
    tmp_path: Path, collector: OtlpCollector
) -> None:
    broker = traced_broker(tmp_path, collector, delay_ms=100)
    try:
        token = broker.admin.agent("traced-agent", workspace="tw", tenant="tt")
        usage, call_id = call_once(broker, token)
        resource, span = wait_for(lambda: collector.span_of(call_id))
    finally:
        broker.terminate()
    assert collector.paths[0] == "/v1/traces"
    assert resource["service.name"] == "dome-broker"
    assert span.name == "chat demo"
    assert span.kind == Span.SpanKind.SPAN_KIND_CLIENT
    assert span.status.code != Status.StatusCode.STATUS_CODE_ERROR
    assert 0 < span.start_time_unix_nano < span.end_time_unix_nano
    assert abs(span.start_time_unix_nano / 1e9 - time.time()) < 120
    found = attributes(span.attributes)
    assert found["gen_ai.operation.name"] == "chat"
    assert found["gen_ai.provider.name"] == "mock"
    assert found["gen_ai.request.model"] == "demo"
    assert found["gen_ai.response.model"] == "mock-1"
    assert found["gen_ai.usage.input_tokens"] == usage.prompt_tokens
    assert found["gen_ai.usage.output_tokens"] == usage.completion_tokens
    assert found["dome.agent"] == "traced-agent"
    assert found["dome.workspace"] == "tw"
    assert found["dome.tenant"] == "tt"
    assert found["dome.outcome"] == "ok"
    assert found["dome.policy.decision"] == "allow"
    assert found["dome.policy.ids"] == ("test.permit-all",)


def test_spans_still_queued_are_flushed_at_shutdown(
    tmp_path: Path, collector: OtlpCollector
) -> None:
    broker = traced_broker(tmp_path, collector, delay_ms=600_000)  # no timed export
    try:
        _, call_id = call_once(broker, broker.admin.agent("late-agent"))
        time.sleep(0.5)
        assert collector.span_of(call_id) is None
    finally:
        broker.terminate()
    assert collector.span_of(call_id) is not None
