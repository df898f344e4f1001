"""Prometheus metrics, in a registry owned by the app (several apps can live in one process)."""

from __future__ import annotations

from typing import Any, NamedTuple

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
        self.cache_hits = Counter("pp_cache_hits", "Prediction cache hits", registry=r)
        self.cache_misses = Counter("pp_cache_misses", "Prediction cache misses", registry=r)
        self.validation_errors = Counter(
            "pp_validation_errors", "Rejected input by field", ["field"], registry=r
        )
        self.predlog_dropped = Counter(
            "pp_prediction_log_errors", "Prediction log write errors", registry=r
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
