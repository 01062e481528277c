"""OpenTelemetry spans of finished agent calls, named and attributed per the GenAI
semantic conventions (`gen_ai.*`), plus the broker's own facts as `dome.*`.

The SDK and the OTLP exporter are imported only when spans are switched on, never at
broker import. A span is built after the fact from the call's end record; exporting is
the SDK's batch processor's work, on its own thread, so no call waits for the collector.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from dome.store.records import AuditRow

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer
    from opentelemetry.util.types import AttributeValue

SERVICE_NAME: Final = "dome-broker"
TRACER_NAME: Final = "dome.audit"
# OTLP/HTTP: a base endpoint gets the signal's path appended (OTLP exporter spec,
# "Endpoint URLs for OTLP/HTTP").
TRACES_PATH: Final = "v1/traces"
# A requested model is the agent's own text: bounded before it names a span.
MAX_MODEL_CHARS: Final = 200

# gen_ai.operation.name by broker endpoint: the semconv's well-known values where one
# applies (Anthropic Messages is a chat), the endpoint's own name otherwise.
_OPERATIONS: Final = {
    "chat": "chat",
    "messages": "chat",
    "embeddings": "embeddings",
    "count_tokens": "count_tokens",
}
# gen_ai.provider.name by provider kind: the semconv's well-known values; other kinds
# (openai-compatible, mock) go as they are.
_PROVIDERS: Final = {
    "openai": "openai",
    "anthropic": "anthropic",
    "bedrock": "aws.bedrock",
    "vertex": "gcp.vertex_ai",
}
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def traces_url(endpoint: str) -> str:
    """The traces URL under an `OTEL_EXPORTER_OTLP_ENDPOINT` base URL."""
    return endpoint.rstrip("/") + "/" + TRACES_PATH


def operation_name(row: AuditRow) -> str:
    return _OPERATIONS.get(row.endpoint, row.endpoint)


def provider_name(kind: str) -> str:
    return _PROVIDERS.get(kind, kind)


def span_name(row: AuditRow) -> str:
    """`{gen_ai.operation.name} {gen_ai.request.model}`, or the operation alone when the
    call named no model (GenAI spans, "Name")."""
    model = row.requested_model
    operation = operation_name(row)
    return f"{operation} {model[:MAX_MODEL_CHARS]}" if model else operation


def span_times(row: AuditRow) -> tuple[int, int]:
    """Start and end in nanoseconds since the epoch: the call's start and its latency."""
    started = row.started_at if row.started_at.tzinfo else row.started_at.replace(tzinfo=UTC)
    start = (started - _EPOCH) // _MICROSECOND * 1000
    return start, start + max(0, round(row.latency_ms * 1_000_000))


def span_attributes(row: AuditRow) -> dict[str, AttributeValue]:
    """The span's attributes; facts the record lacks are left out (OTel has no null).

    Each attribute costs the SDK a validation on the call path, so the rest of the
    record (formats, region, attempts, ...) stays in the audit, found by `dome.call_id`.
    """
    facts: dict[str, AttributeValue | None] = {
        "gen_ai.operation.name": operation_name(row),
        "gen_ai.provider.name": provider_name(row.provider) if row.provider else None,
        "gen_ai.request.model": (row.requested_model or "")[:MAX_MODEL_CHARS] or None,
        "gen_ai.response.model": row.served_model,
        "gen_ai.usage.input_tokens": row.input_tokens,
        "gen_ai.usage.output_tokens": row.output_tokens,
        "gen_ai.usage.cache_read.input_tokens": row.cache_read_tokens,
        "gen_ai.usage.cache_creation.input_tokens": row.cache_write_tokens,
        "error.type": (row.error_type or row.outcome) if is_error(row) else None,
        "dome.call_id": row.call_id,
        "dome.endpoint": row.endpoint,
        "dome.agent": row.agent,
        "dome.workspace": row.workspace,
        "dome.tenant": row.tenant,
        "dome.model_entry": row.model_entry,
        "dome.pool": row.pool,
        "dome.stream": row.stream,
        "dome.status": row.status,
        "dome.outcome": row.outcome,
        "dome.ttft_ms": row.ttft_ms,
        "dome.usage.reasoning_tokens": row.reasoning_tokens,
        # Decimal text, as in the audit: a double would round the money.
        "dome.cost_usd": row.cost_usd,
        "dome.policy.decision": row.decision,
        "dome.policy.ids": tuple(row.policy_ids) if row.policy_ids else None,
        "dome.budget": row.budget,
        "dome.budget.ceiling": row.budget_ceiling,
    }
    return {name: value for name, value in facts.items() if value is not None}


def is_error(row: AuditRow) -> bool:
    return row.outcome != "ok"


class CallSpans:
    """One CLIENT span per finished call, handed to `exporter` in batches.

    Tests inject the SDK's `InMemorySpanExporter` (with `batch=False`, so a span is
    exported as it ends); the broker uses `open_call_spans`.
    """

    def __init__(self, exporter: SpanExporter, *, batch: bool = True) -> None:
        from opentelemetry.sdk.resources import Resource  # noqa: PLC0415 - only when on
        from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
        from opentelemetry.sdk.trace.export import (  # noqa: PLC0415
            BatchSpanProcessor,
            SimpleSpanProcessor,
        )
        from opentelemetry.trace import SpanKind, Status, StatusCode  # noqa: PLC0415

        self._provider: TracerProvider = TracerProvider(
            resource=Resource.create({"service.name": SERVICE_NAME})
        )
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        self._provider.add_span_processor(processor)
        self._tracer: Tracer = self._provider.get_tracer(TRACER_NAME)
        # Held here: the module itself imports nothing of OpenTelemetry.
        self._client = SpanKind.CLIENT
        self._status = Status
        self._error = StatusCode.ERROR

    def observe(self, row: AuditRow) -> None:
        """Record the span of one call's end record (`kind == "call"`)."""
        if row.kind != "call":
            return
        start, end = span_times(row)
        span = self._tracer.start_span(
            span_name(row), kind=self._client, attributes=span_attributes(row), start_time=start
        )
        if is_error(row):
            span.set_status(self._status(self._error, row.error_type or row.outcome))
        span.end(end_time=end)

    def close(self) -> None:
        """Export what is still queued and stop; blocks up to the exporter's timeout."""
        self._provider.shutdown()


def open_call_spans(endpoint: str | None) -> CallSpans | None:
    """Spans exported over OTLP/HTTP to `endpoint` (the `OTEL_EXPORTER_OTLP_ENDPOINT`
    base URL), or None when it is unset: then nothing of OpenTelemetry is imported.

    The exporter's other settings (headers, timeout, compression, TLS files) come from
    the standard `OTEL_EXPORTER_OTLP_*` variables, read by the exporter itself.
    """
    if not endpoint or not endpoint.strip():
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )

    return CallSpans(OTLPSpanExporter(endpoint=traces_url(endpoint.strip())))
