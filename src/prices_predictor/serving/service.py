"""Scoring requests: variant choice, cache, price range, metrics and the prediction log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from prices_predictor.data import schema
from prices_predictor.serving.holder import CHAMPION, LoadedModel, ModelHolder, PredictionCache
from prices_predictor.serving.metrics import Metrics
from prices_predictor.serving.predlog import PredictionLog
from prices_predictor.settings import Settings

KEY_SNAKE = {c: schema.snake(c) for c in schema.FEATURES}


@dataclass
class Scored:
    log_price: np.ndarray
    price: np.ndarray
    low: np.ndarray
    high: np.ndarray
    imputed: list[list[str]]
    warnings: list[list[str]]


class NotReady(Exception):
    """No model is loaded yet (503)."""


class PredictionService:
    def __init__(
        self,
        settings: Settings,
        holder: ModelHolder,
        metrics: Metrics,
        predlog: PredictionLog | None,
    ) -> None:
        self.settings = settings
        self.holder = holder
        self.metrics = metrics
        self.predlog = predlog
        self.cache = PredictionCache(settings.cache_size)

    def model(self, variant: str = CHAMPION) -> LoadedModel:
        m = self.holder.get(variant) or self.holder.get(CHAMPION)
        if m is None:
            raise NotReady(self.holder.last_error or "model not loaded yet")
        return m

    def score(self, m: LoadedModel, rows: list[dict[str, Any]], variant: str) -> Scored:
        log_price = self._log_predictions(m, rows)
        low, high = m.model.price_range(log_price)
        price = np.expm1(log_price)
        imputed = [[KEY_SNAKE[c] for c in m.model.encoder.missing_features(r)] for r in rows]
        warnings = [_key_warnings(r) for r in rows]
        self.metrics.rows.labels(variant).inc(len(rows))
        for p in price[:1000]:
            self.metrics.price.labels(variant).observe(float(p))
        return Scored(log_price, price, low, high, imputed, warnings)

    def _log_predictions(self, m: LoadedModel, rows: list[dict[str, Any]]) -> np.ndarray:
        if len(rows) != 1 or self.cache.size == 0:
            return m.model.predict_log(rows)
        key = (m.version, orjson.dumps(rows[0], option=orjson.OPT_SORT_KEYS).decode())
        hit = self.cache.get(key)
        if hit is not None:
            self.metrics.cache_hits.inc()
            return np.array([hit])
        self.metrics.cache_misses.inc()
        out = m.model.predict_log(rows)
        self.cache.put(key, float(out[0]))
        return out

    def log_predictions(
        self,
        m: LoadedModel,
        variant: str,
        request_id: str,
        rows: list[dict[str, Any]],
        scored: Scored,
        latency_ms: float,
        client_id: str | None = None,
        shadow: bool = False,
    ) -> None:
        if self.predlog is None:
            return
        self.predlog.add(
            [
                {
                    "request_id": request_id,
                    "row": i,
                    "model_name": m.name,
                    "model_version": m.version,
                    "variant": variant,
                    "shadow": shadow,
                    "client_id": client_id,
                    "features": r,
                    "price": float(scored.price[i]),
                    "price_low": float(scored.low[i]),
                    "price_high": float(scored.high[i]),
                    "latency_ms": latency_ms,
                }
                for i, r in enumerate(rows)
            ]
        )


def _key_warnings(row: dict[str, Any]) -> list[str]:
    missing = [KEY_SNAKE[c] for c in schema.KEY_FEATURES if row.get(c) is None]
    if not missing:
        return []
    return [f"key feature(s) missing, imputed: {', '.join(missing)}; the price is less reliable"]
