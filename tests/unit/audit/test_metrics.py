"""The Prometheus side of the live figures: what one end record adds, under which labels."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from dome.audit.metrics import CONTENT_TYPE, LATENCY_BUCKETS, CallMetrics, LiveFigures
from dome.audit.otel import CallSpans
from dome.store.records import AuditRow


def end_row(**changes: Any) -> AuditRow:
    row = AuditRow(
        call_id="call_1",
        started_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        agent="agent-1",
        workspace="ws",
        tenant="t",
        endpoint="chat",
        requested_model="gpt-prod",
        served_model="gpt-4o-mini",
        model_entry="gpt-prod",
        provider="openai",
        format_in="openai",
        format_out="openai",
        stream=False,
        status=200,
        error_type=None,
        latency_ms=420.0,
        ttft_ms=120.0,
        input_tokens=11,
        output_tokens=7,
        usage=None,
        outcome="ok",
        cache_read_tokens=3,
        cache_write_tokens=2,
        reasoning_tokens=5,
        total_tokens=18,
        cost_usd="0.000123",
    )
    return dataclasses.replace(row, **changes)


def value(metrics: CallMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_an_end_record_counts_the_call_its_tokens_cost_and_times() -> None:
    metrics = CallMetrics()
    metrics.observe(end_row())
    model = {"model": "gpt-prod", "provider": "openai"}
    assert value(metrics, "dome_calls_total", **model, outcome="ok", endpoint="chat") == 1
    expected = {"input": 11, "output": 7, "cache_read": 3, "cache_write": 2, "reasoning": 5}
    for kind, count in expected.items():
        assert value(metrics, "dome_tokens_total", **model, kind=kind) == count
    assert value(metrics, "dome_cost_usd_total", **model) == pytest.approx(0.000123)
    latency = {**model, "outcome": "ok"}
    assert value(metrics, "dome_call_latency_seconds_count", **latency) == 1
    assert value(metrics, "dome_call_latency_seconds_sum", **latency) == pytest.approx(0.42)
    assert value(metrics, "dome_call_latency_seconds_bucket", **latency, le="0.25") == 0
    assert value(metrics, "dome_call_latency_seconds_bucket", **latency, le="0.5") == 1
    assert value(metrics, "dome_time_to_first_token_seconds_sum", **model) == pytest.approx(0.12)


def test_calls_add_up_per_label_set() -> None:
    metrics = CallMetrics()
    for _ in range(3):
        metrics.observe(end_row())
    metrics.observe(end_row(outcome="upstream_error", status=502, input_tokens=4))
    metrics.observe(end_row(endpoint="messages", model_entry="claude", provider="anthropic"))
    ok = {"model": "gpt-prod", "provider": "openai", "endpoint": "chat"}
    assert value(metrics, "dome_calls_total", **ok, outcome="ok") == 3
    assert value(metrics, "dome_calls_total", **ok, outcome="upstream_error") == 1
    claude = {"model": "claude", "provider": "anthropic"}
    assert value(metrics, "dome_calls_total", **claude, outcome="ok", endpoint="messages") == 1
    gpt = {"model": "gpt-prod", "provider": "openai"}
    assert value(metrics, "dome_tokens_total", **gpt, kind="input") == 3 * 11 + 4
    assert value(metrics, "dome_tokens_total", **claude, kind="input") == 11
    assert value(metrics, "dome_cost_usd_total", **gpt) == pytest.approx(4 * 0.000123)


def test_a_call_without_a_model_entry_is_labelled_unrouted_never_by_what_the_agent_sent() -> None:
    metrics = CallMetrics()
    raw = "no-such-model-\u00e9\u00e9-" + "x" * 50
    metrics.observe(
        end_row(
            requested_model=raw,
            model_entry=None,
            served_model=None,
            provider=None,
            outcome="rejected",
            status=404,
            input_tokens=None,
            output_tokens=None,
            cache_read_tokens=None,
            cache_write_tokens=None,
            reasoning_tokens=None,
            cost_usd=None,
            ttft_ms=None,
        )
    )
    labels = {"model": "unrouted", "provider": "none", "outcome": "rejected", "endpoint": "chat"}
    assert value(metrics, "dome_calls_total", **labels) == 1
    assert raw not in metrics.exposition().decode()
    unrouted = {"model": "unrouted", "provider": "none"}
    assert value(metrics, "dome_time_to_first_token_seconds_count", **unrouted) == 0
    assert value(metrics, "dome_call_latency_seconds_count", **unrouted, outcome="rejected") == 1
    assert value(metrics, "dome_tokens_total", model="unrouted", provider="none", kind="input") == 0


def test_only_end_records_count() -> None:
    metrics = CallMetrics()
    metrics.observe(end_row(kind="call_started", outcome=None, status=0))
    metrics.observe(end_row(kind="attempt", attempt=1))
    assert "dome_calls_total{" not in metrics.exposition().decode()


def test_nonsense_figures_are_skipped_not_raised() -> None:
    metrics = CallMetrics()
    metrics.observe(end_row(input_tokens=-5, output_tokens=0, cost_usd="NaN"))
    metrics.observe(end_row(input_tokens=None, output_tokens=None, cost_usd="-1.5"))
    metrics.observe(end_row(input_tokens=2, output_tokens=-1, cost_usd="0"))
    model = {"model": "gpt-prod", "provider": "openai"}
    assert value(metrics, "dome_calls_total", **model, outcome="ok", endpoint="chat") == 3
    assert value(metrics, "dome_tokens_total", **model, kind="input") == 2
    assert value(metrics, "dome_tokens_total", **model, kind="output") == 0
    assert value(metrics, "dome_cost_usd_total", **model) == 0


def test_missing_outcome_is_labelled_unknown() -> None:
    metrics = CallMetrics()
    metrics.observe(end_row(outcome=None))
    labels = {"model": "gpt-prod", "provider": "openai", "outcome": "unknown", "endpoint": "chat"}
    assert value(metrics, "dome_calls_total", **labels) == 1


def test_the_exposition_is_the_prometheus_text_format_with_llm_sized_buckets() -> None:
    metrics = CallMetrics()
    metrics.observe(end_row(latency_ms=130_000.0))
    assert CONTENT_TYPE.startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(metrics.exposition().decode())}
    assert {"dome_calls", "dome_tokens", "dome_cost_usd"} <= families.keys()
    assert families["dome_call_latency_seconds"].type == "histogram"
    bounds = [
        float(sample.labels["le"])
        for sample in families["dome_call_latency_seconds"].samples
        if sample.name.endswith("_bucket")
    ]
    assert bounds == [*LATENCY_BUCKETS, float("inf")]
    assert LATENCY_BUCKETS[0] == 0.005
    assert LATENCY_BUCKETS[-1] == 120.0
    beyond = {"model": "gpt-prod", "provider": "openai", "outcome": "ok"}
    assert value(metrics, "dome_call_latency_seconds_bucket", **beyond, le="120.0") == 0
    assert value(metrics, "dome_call_latency_seconds_bucket", **beyond, le="+Inf") == 1


def test_a_bucket_holds_values_up_to_and_including_its_bound() -> None:
    metrics = CallMetrics()
    for latency_ms in (500.0, 500.001, 4.0):
        metrics.observe(end_row(latency_ms=latency_ms))
    labels = {"model": "gpt-prod", "provider": "openai", "outcome": "ok"}
    cumulative = {
        le: value(metrics, "dome_call_latency_seconds_bucket", **labels, le=le)
        for le in ("0.005", "0.25", "0.5", "1.0", "+Inf")
    }
    assert cumulative == {"0.005": 1, "0.25": 1, "0.5": 2, "1.0": 3, "+Inf": 3}
    assert value(metrics, "dome_call_latency_seconds_count", **labels) == 3
    assert value(metrics, "dome_call_latency_seconds_sum", **labels) == pytest.approx(1.004001)


def test_each_instance_has_its_own_registry() -> None:
    first, second = CallMetrics(), CallMetrics()
    first.observe(end_row())
    labels = {"model": "gpt-prod", "provider": "openai", "outcome": "ok", "endpoint": "chat"}
    assert value(first, "dome_calls_total", **labels) == 1
    assert value(second, "dome_calls_total", **labels) is None


@pytest.mark.anyio
async def test_live_figures_feed_metrics_and_spans_and_close_flushes_the_spans() -> None:
    exporter = InMemorySpanExporter()
    figures = LiveFigures(CallSpans(exporter, batch=True))
    figures.observe(end_row())
    figures.observe(end_row(kind="attempt", attempt=1))
    await figures.close()
    assert [span.name for span in exporter.get_finished_spans()] == ["chat gpt-prod"]
    assert b'dome_calls_total{endpoint="chat",model="gpt-prod"' in figures.exposition()


@pytest.mark.anyio
async def test_live_figures_without_spans() -> None:
    figures = LiveFigures()
    figures.observe(end_row())
    await figures.close()
    labels = {"model": "gpt-prod", "provider": "openai", "outcome": "ok", "endpoint": "chat"}
    assert value(figures.metrics, "dome_calls_total", **labels) == 1
