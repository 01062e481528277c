"""One GenAI span per finished call: its name, kind, times, attributes and status."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from dome.audit.otel import (
    MAX_MODEL_CHARS,
    CallSpans,
    open_call_spans,
    span_attributes,
    traces_url,
)
from dome.store.records import AuditRow

STARTED = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def end_row(**changes: Any) -> AuditRow:
    row = AuditRow(
        call_id="call_abc",
        started_at=STARTED,
        agent="agent-1",
        workspace="ws",
        tenant="t",
        endpoint="messages",
        requested_model="claude-prod",
        served_model="claude-sonnet-4-6",
        model_entry="claude-prod",
        provider="anthropic",
        format_in="anthropic",
        format_out="anthropic",
        stream=True,
        status=200,
        error_type=None,
        latency_ms=1500.25,
        ttft_ms=300.5,
        input_tokens=40,
        output_tokens=12,
        usage=None,
        decision="allow",
        policy_ids=["p.one", "p.two"],
        policy_version=3,
        attempts=[{"model": "claude-prod", "outcome": "ok"}],
        pool="fast",
        outcome="ok",
        region="eu-west-1",
        cache_read_tokens=8,
        cache_write_tokens=None,
        reasoning_tokens=None,
        total_tokens=52,
        cost_usd="0.000300",
        budget="admitted",
    )
    return dataclasses.replace(row, **changes)


def one_span(*rows: AuditRow) -> ReadableSpan:
    exporter = InMemorySpanExporter()
    spans = CallSpans(exporter, batch=False)
    for row in rows:
        spans.observe(row)
    spans.close()
    (span,) = exporter.get_finished_spans()
    return span


def nanoseconds(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


def test_a_call_is_one_client_span_named_by_operation_and_requested_model() -> None:
    span = one_span(end_row())
    assert span.name == "chat claude-prod"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.start_time == nanoseconds(STARTED)
    assert span.end_time == nanoseconds(STARTED) + 1_500_250_000
    assert span.resource.attributes["service.name"] == "dome-broker"
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "dome.audit"


def test_gen_ai_and_dome_attributes() -> None:
    attributes = dict(one_span(end_row()).attributes or {})
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-prod",
        "gen_ai.response.model": "claude-sonnet-4-6",
        "gen_ai.usage.input_tokens": 40,
        "gen_ai.usage.output_tokens": 12,
        "gen_ai.usage.cache_read.input_tokens": 8,
        "dome.call_id": "call_abc",
        "dome.endpoint": "messages",
        "dome.agent": "agent-1",
        "dome.workspace": "ws",
        "dome.tenant": "t",
        "dome.model_entry": "claude-prod",
        "dome.pool": "fast",
        "dome.stream": True,
        "dome.status": 200,
        "dome.outcome": "ok",
        "dome.ttft_ms": 300.5,
        "dome.cost_usd": "0.000300",
        "dome.policy.decision": "allow",
        "dome.policy.ids": ("p.one", "p.two"),
        "dome.budget": "admitted",
    }


def test_a_failed_call_has_error_status_and_error_type() -> None:
    span = one_span(
        end_row(outcome="upstream_error", status=502, error_type="upstream_stream_broken")
    )
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "upstream_stream_broken"
    assert span.attributes is not None
    assert span.attributes["error.type"] == "upstream_stream_broken"
    assert span.attributes["dome.outcome"] == "upstream_error"


def test_a_denied_call_without_error_type_names_its_outcome() -> None:
    row = end_row(outcome="denied_budget", status=429, error_type=None, budget="denied")
    span = one_span(row)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == "denied_budget"
    assert span.attributes["dome.budget"] == "denied"


def test_a_call_that_named_no_model_is_named_by_its_operation_and_lacks_the_unknowns() -> None:
    row = end_row(
        endpoint="chat",
        requested_model=None,
        served_model=None,
        model_entry=None,
        provider=None,
        agent=None,
        workspace=None,
        tenant=None,
        pool=None,
        region=None,
        input_tokens=None,
        output_tokens=None,
        cache_read_tokens=None,
        total_tokens=None,
        ttft_ms=None,
        cost_usd=None,
        decision=None,
        policy_ids=None,
        policy_version=None,
        attempts=None,
        budget=None,
        outcome="rejected",
        status=401,
        error_type="authentication_error",
    )
    span = one_span(row)
    assert span.name == "chat"
    attributes = dict(span.attributes or {})
    assert "gen_ai.request.model" not in attributes
    assert "gen_ai.provider.name" not in attributes
    assert "dome.agent" not in attributes
    assert attributes["error.type"] == "authentication_error"


def test_operations_and_provider_names_follow_the_semantic_conventions() -> None:
    cases = [
        ({"endpoint": "chat", "provider": "openai"}, "chat", "openai"),
        ({"endpoint": "embeddings", "provider": "openai"}, "embeddings", "openai"),
        ({"endpoint": "count_tokens", "provider": "anthropic"}, "count_tokens", "anthropic"),
        ({"endpoint": "chat", "provider": "openai-compatible"}, "chat", "openai-compatible"),
        ({"endpoint": "chat", "provider": "bedrock"}, "chat", "aws.bedrock"),
    ]
    for changes, operation, provider in cases:
        attributes = span_attributes(end_row(**changes))
        assert attributes["gen_ai.operation.name"] == operation
        assert attributes["gen_ai.provider.name"] == provider


def test_an_agents_long_model_name_is_cut_before_it_names_a_span() -> None:
    span = one_span(end_row(requested_model="m" * 10_000))
    assert span.name == "chat " + "m" * MAX_MODEL_CHARS
    assert span.attributes is not None
    assert span.attributes["gen_ai.request.model"] == "m" * MAX_MODEL_CHARS


def test_only_end_records_make_spans() -> None:
    span = one_span(
        end_row(kind="call_started", outcome=None, status=0),
        end_row(kind="attempt", attempt=1, call_id="attempt-row"),
        end_row(call_id="the-end"),
    )
    assert span.attributes is not None
    assert span.attributes["dome.call_id"] == "the-end"


def test_batched_spans_are_exported_on_close() -> None:
    exporter = InMemorySpanExporter()
    spans = CallSpans(exporter)  # batched, as in the broker: nothing exported yet
    for number in range(3):
        spans.observe(end_row(call_id=f"call_{number}"))
    spans.close()
    names = sorted(
        str((span.attributes or {})["dome.call_id"]) for span in exporter.get_finished_spans()
    )
    assert names == ["call_0", "call_1", "call_2"]


def test_traces_url_appends_the_signal_path() -> None:
    assert traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert traces_url("https://otel.example/base/") == "https://otel.example/base/v1/traces"


def imported_after(code: str) -> list[str]:
    """The opentelemetry modules a fresh interpreter holds after running `code`."""
    probe = code + "\nimport sys\nprint(sorted(m for m in sys.modules if 'opentelemetry' in m))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return list(ast.literal_eval(result.stdout.strip()))


def test_spans_are_off_without_an_endpoint_and_opentelemetry_is_not_imported() -> None:
    off = (
        "from dome.audit.metrics import LiveFigures\n"
        "from dome.audit.otel import open_call_spans\n"
        "assert open_call_spans(None) is None\n"
        "assert open_call_spans('  ') is None\n"
        "LiveFigures(None)\n"
    )
    # (The server as a whole holds some: the redis client imports the OpenTelemetry
    # metrics SDK for its own instruments. Never the tracing SDK or the exporter.)
    assert imported_after(off) == []


def test_an_endpoint_opens_an_otlp_http_exporter() -> None:
    spans = open_call_spans(" http://127.0.0.1:9/ ")
    assert spans is not None
    try:
        processor = spans._provider._active_span_processor._span_processors[0]
        exporter: Any = processor._batch_processor._exporter  # type: ignore[attr-defined]
        assert type(exporter).__name__ == "OTLPSpanExporter"
        assert exporter._endpoint == "http://127.0.0.1:9/v1/traces"
    finally:
        spans.close()  # nothing queued: no export is tried
