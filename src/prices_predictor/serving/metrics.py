"""Prometheus metrics, in a registry owned by the app (several apps can live in one process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from prices_predictor.store.predlog import LogStats

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
PRICE_BUCKETS = (50e3, 100e3, 150e3, 200e3, 250e3, 300e3, 400e3, 500e3, 750e3, 1e6)


class VariantSeries(NamedTuple):
    """The per-variant series touched by every prediction, resolved once."""

    rows: Any
    price: Any
    requests: Any


class Metrics:
    def __init__(self) -> None:
        self._variants: dict[str, VariantSeries] = {}
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "pp_requests", "HTTP requests", ["route", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "pp_request_latency_seconds",
            "Request latency",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.price = Histogram(
            "pp_predicted_price_dollars",
            "Predicted prices",
            ["variant"],
            buckets=PRICE_BUCKETS,
            registry=r,
        )
        self.rows = Counter("pp_rows_scored", "Rows scored", ["variant"], registry=r)
        self.model_info = Gauge(
            "pp_model_info",
            "Served model version (value 1)",
            ["variant", "name", "version"],
            registry=r,
        )
        self.reloads = Counter("pp_model_reloads", "Model reload attempts", ["result"], registry=r)
        self.integrity_failures = Counter(
            "pp_model_integrity_failures",
            "Model versions or bundles refused: files differ from their logged checksums",
            registry=r,
        )
        self.cache_hits = Counter("pp_cache_hits", "Prediction cache hits", registry=r)
        self.cache_misses = Counter("pp_cache_misses", "Prediction cache misses", registry=r)
        self.validation_errors = Counter(
            "pp_validation_errors", "Rejected input by field", ["field"], registry=r
        )
        self.predlog_refused = Counter(
            "pp_prediction_log_refused",
            "Predictions answered 503 because the journal could not take them",
            ["reason"],
            registry=r,
        )
        self.shadow = Counter("pp_shadow", "Shadow scoring outcomes", ["result"], registry=r)
        self.variant_requests = Counter(
            "pp_variant_requests", "Requests per A/B variant", ["variant"], registry=r
        )
        self.drift_share = Gauge("pp_drift_share", "Share of drifted columns (live)", registry=r)
        self.drift_alert = Gauge(
            "pp_drift_alert", "1 when the last live drift check alerted", registry=r
        )
        self.drift_score = Gauge(
            "pp_drift_feature_score", "Drift score of top features", ["feature"], registry=r
        )

    def watch_prediction_log(self, stats: Callable[[], LogStats]) -> None:
        """Journal and shipper figures, read when Prometheus scrapes."""
        self.registry.register(_LogCollector(stats))

    def watch_jobs(self, stats: Callable[[], dict[str, Any]], buckets: tuple[float, ...]) -> None:
        """The job queue and the workers' totals, read from Redis when Prometheus scrapes
        (a worker has no port of its own to scrape)."""
        self.registry.register(_JobsCollector(stats, buckets))

    def variant(self, variant: str) -> VariantSeries:
        """Series for one A/B variant (champion or challenger: a bounded set)."""
        series = self._variants.get(variant)
        if series is None:
            series = self._variants[variant] = VariantSeries(
                self.rows.labels(variant),
                self.price.labels(variant),
                self.variant_requests.labels(variant),
            )
        return series

    def set_model(self, variant: str, name: str, version: str) -> None:
        for metric in list(self.model_info._metrics):  # drop the previous version's series
            if metric[0] == variant:
                self.model_info.remove(*metric)
        self.model_info.labels(variant, name, version).set(1)


class _LogCollector(Collector):
    def __init__(self, stats: Callable[[], LogStats]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        s = self.stats()
        for name, doc, value in (
            ("backlog_rows", "Logged rows not yet in the database", s.backlog_rows),
            ("backlog_bytes", "Journal bytes not yet in the database", s.backlog_bytes),
            (
                "oldest_unshipped_seconds",
                "Age of the oldest row not yet in the database",
                s.oldest_unshipped_s,
            ),
            ("journal_bytes", "Journal size on disk", s.journal_bytes),
            ("journal_max_bytes", "Journal disk budget (PP_PREDLOG_MAX_BYTES)", s.max_bytes),
        ):
            yield GaugeMetricFamily(f"pp_prediction_log_{name}", doc, value=value)
        for name, doc, value in (
            ("shipped_rows", "Rows committed to the database", s.shipped_rows),
            ("ship_failures", "Shipping attempts the database refused", s.failed_attempts),
            ("rejected_rows", "Rows refused because the journal was full", s.rejected_rows),
            ("lost_bytes", "Journal bytes found damaged (never stored)", s.lost_bytes),
        ):
            yield CounterMetricFamily(f"pp_prediction_log_{name}", doc, value=value)


class _JobsCollector(Collector):
    def __init__(self, stats: Callable[[], dict[str, Any]], buckets: tuple[float, ...]) -> None:
        self.stats = stats
        self.buckets = buckets

    def collect(self) -> Iterator[Metric]:
        try:
            s = self.stats()
        except Exception:  # Redis down: say so, the rest of /metrics still answers
            yield GaugeMetricFamily("pp_jobs_queue_up", "Job queue (Redis) reachable", value=0)
            return
        yield GaugeMetricFamily("pp_jobs_queue_up", "Job queue (Redis) reachable", value=1)
        yield GaugeMetricFamily("pp_jobs_queue_length", "Jobs waiting", value=s["queued"])
        by_state = GaugeMetricFamily("pp_jobs", "Jobs kept, by state", labels=["state"])
        for state in ("queued", "running", "finished", "failed", "cancelled"):
            by_state.add_metric([state], s[state])
        yield by_state
        yield GaugeMetricFamily(
            "pp_jobs_abandoned",
            "Running jobs whose worker stopped beating (queued again at the next maintenance)",
            value=s["abandoned"],
        )
        yield GaugeMetricFamily("pp_jobs_workers", "Workers on the queue", value=s["workers"])
        t = s["totals"]
        yield CounterMetricFamily("pp_job_rows", "Rows priced by jobs", value=t.get("rows", 0.0))
        yield GaugeMetricFamily(
            "pp_job_last_rows_per_second",
            "Rows per second of the last finished job",
            value=t.get("last_rows_per_s", 0.0),
        )
        jobs = t.get("jobs", 0.0)
        yield HistogramMetricFamily(
            "pp_job_duration_seconds",
            "Time a worker spent on a finished job (model, read, score, write)",
            buckets=[(str(b), t.get(f"le:{b}", 0.0)) for b in self.buckets] + [("+Inf", jobs)],
            sum_value=t.get("seconds", 0.0),
        )
