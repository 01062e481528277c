"""Live figures of finished agent calls: Prometheus counters and histograms (calls,
tokens, cost, latency, time to first token) in a registry of their own, and, when
switched on, one OpenTelemetry span per call (dome.audit.otel).

Fed one end record at a time from the call path, so `observe` only adds to plain
in-memory totals and never waits; the audit stays the record of truth (money in
Decimal there).
"""

from __future__ import annotations

import asyncio
import math
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric

from dome.audit.otel import CallSpans
from dome.store.records import AuditRow

# What `generate_latest` writes: the classic text format every Prometheus reads.
CONTENT_TYPE: Final = CONTENT_TYPE_PLAIN_0_0_4
# From a cached or tiny answer (5 ms) to a long reasoning stream (2 min); past the
# last bucket only +Inf counts.
LATENCY_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    20.0,
    30.0,
    60.0,
    120.0,
)
TOKEN_KINDS: Final = ("input", "output", "cache_read", "cache_write", "reasoning")
# Label values for calls that never reached a model entry: labels carry only names
# from the operator config and closed sets, never the agent's own text.
UNROUTED: Final = "unrouted"
NO_PROVIDER: Final = "none"
UNKNOWN_OUTCOME: Final = "unknown"

# `le` as Prometheus writes it: "0.005", "1.0", ..., "+Inf".
_BUCKET_NAMES: Final = (*(str(bound) for bound in LATENCY_BUCKETS), "+Inf")
_SeriesKey = tuple[str, str, str, str]  # model, provider, outcome, endpoint
_ModelKey = tuple[str, str]  # model, provider


@dataclass(slots=True)
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * len(_BUCKET_NAMES))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        # The first bucket whose upper bound is >= the value; past them all, +Inf.
        self.counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.total += seconds

    def buckets(self) -> list[tuple[str, float]]:
        cumulative, running = [], 0
        for name, count in zip(_BUCKET_NAMES, self.counts, strict=True):
            running += count
            cumulative.append((name, float(running)))
        return cumulative


@dataclass(slots=True)
class _ModelTotals:
    """What is counted by model and provider alone."""

    tokens: list[int] = field(default_factory=lambda: [0] * len(TOKEN_KINDS))
    cost: float = 0.0
    ttft: _Histogram = field(default_factory=_Histogram)


@dataclass(slots=True)
class _Series:
    """The totals one end record adds to, found with one dict lookup."""

    calls: list[int]  # one cell, shared with the calls table
    latency: _Histogram  # shared by the endpoints of (model, provider, outcome)
    model: _ModelTotals  # shared by the outcomes and endpoints of (model, provider)


class CallMetrics:
    """The Prometheus side: series by model entry, provider, outcome and endpoint.

    The totals are plain numbers, not `prometheus_client` metric objects, whose every
    increment takes a lock: `observe` runs on the event loop for every call, and so
    does the scrape, so one thread owns them.
    """

    def __init__(self) -> None:
        self._calls: dict[_SeriesKey, list[int]] = {}
        self._latency: dict[tuple[str, str, str], _Histogram] = {}
        self._models: dict[_ModelKey, _ModelTotals] = {}
        self._series: dict[_SeriesKey, _Series] = {}
        # A registry of our own: the process-wide default one would mix in whatever
        # else registers there and outlive a broker started twice in one process.
        self.registry = CollectorRegistry()
        self.registry.register(self)

    def observe(self, row: AuditRow) -> None:
        """Count one call's end record (`kind == "call"`); other records are ignored."""
        if row.kind != "call":
            return
        key = (
            row.model_entry or UNROUTED,
            row.provider or NO_PROVIDER,
            row.outcome or UNKNOWN_OUTCOME,
            row.endpoint,
        )
        series = self._series.get(key)
        if series is None:
            series = self._new_series(key)
        series.calls[0] += 1
        series.latency.observe(row.latency_ms / 1000)
        model = series.model
        if row.ttft_ms is not None:
            model.ttft.observe(row.ttft_ms / 1000)
        tokens = model.tokens
        for index, count in enumerate(
            (
                row.input_tokens,
                row.output_tokens,
                row.cache_read_tokens,
                row.cache_write_tokens,
                row.reasoning_tokens,
            )
        ):
            if count is not None and count > 0:  # a counter never goes down
                tokens[index] += count
        if row.cost_usd:
            cost = float(row.cost_usd)
            if cost > 0 and math.isfinite(cost):
                model.cost += cost

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format (`CONTENT_TYPE`)."""
        return generate_latest(self.registry)

    def collect(self) -> Iterator[Metric]:
        """The metric families, for the registry (prometheus_client's Collector)."""
        calls = CounterMetricFamily(
            "dome_calls",
            "Finished agent calls.",
            labels=("model", "provider", "outcome", "endpoint"),
        )
        for key, cell in self._calls.items():
            calls.add_metric(key, cell[0])
        yield calls
        tokens = CounterMetricFamily(
            "dome_tokens",
            "Tokens used by finished calls, by kind (the audit's llm.usage.* fields).",
            labels=("model", "provider", "kind"),
        )
        cost = CounterMetricFamily(
            "dome_cost_usd",
            "Cost of finished calls in USD (the audit holds the exact Decimal figures).",
            labels=("model", "provider"),
        )
        ttft = HistogramMetricFamily(
            "dome_time_to_first_token_seconds",
            "Time from a call's arrival to the first byte of its answer.",
            labels=("model", "provider"),
        )
        for (model, provider), totals in self._models.items():
            for kind, count in zip(TOKEN_KINDS, totals.tokens, strict=True):
                tokens.add_metric((model, provider, kind), count)
            cost.add_metric((model, provider), totals.cost)
            ttft.add_metric((model, provider), totals.ttft.buckets(), totals.ttft.total)
        latency = HistogramMetricFamily(
            "dome_call_latency_seconds",
            "Time from a call's arrival to its last byte.",
            labels=("model", "provider", "outcome"),
        )
        for labels, histogram in self._latency.items():
            latency.add_metric(labels, histogram.buckets(), histogram.total)
        yield from (tokens, cost, latency, ttft)

    def _new_series(self, key: _SeriesKey) -> _Series:
        model, provider, outcome, _ = key
        series = _Series(
            calls=self._calls.setdefault(key, [0]),
            latency=self._latency.setdefault((model, provider, outcome), _Histogram()),
            model=self._models.setdefault((model, provider), _ModelTotals()),
        )
        self._series[key] = series
        return series


class LiveFigures:
    """What the broker keeps live about finished calls: the metrics behind `/metrics`
    and, when configured, the spans exported over OTLP."""

    def __init__(self, spans: CallSpans | None = None) -> None:
        self.metrics = CallMetrics()
        self.spans = spans

    def observe(self, row: AuditRow) -> None:
        """Take one audit record; only a call's end record (`kind == "call"`) counts."""
        if row.kind != "call":
            return
        self.metrics.observe(row)
        if self.spans is not None:
            self.spans.observe(row)

    def exposition(self) -> bytes:
        return self.metrics.exposition()

    async def close(self) -> None:
        """Flush the spans still queued (a blocking export, so off the event loop)."""
        if self.spans is not None:
            await asyncio.to_thread(self.spans.close)
