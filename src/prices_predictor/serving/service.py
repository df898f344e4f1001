"""Scoring requests: variant choice, cache, price range, metrics and the prediction log."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import numpy as np
import orjson

from prices_predictor.ab.assign import CHALLENGER, Experiment, assign
from prices_predictor.core.aliases import CHAMPION
from prices_predictor.core.settings import Settings
from prices_predictor.core.table import Table
from prices_predictor.featurestore.online import OnlineFeatures
from prices_predictor.serving.holder import ModelHolder, PredictionCache
from prices_predictor.serving.metrics import Metrics
from prices_predictor.store.predlog import PredictionLog
from prices_predictor.tracking.loading import LoadedModel

MAX_SHADOW_BACKLOG = 256
STORE_THREADS = 2
PRICE_SAMPLE = 20  # prices per batch request observed by the price histogram
T = TypeVar("T")
log = logging.getLogger("prices_predictor.serving.ab")


@dataclass
class Scored:
    log_price: np.ndarray
    price: np.ndarray
    low: np.ndarray
    high: np.ndarray
    imputed: list[list[str]]
    warnings: list[list[str]]


class TableScore(NamedTuple):
    price: np.ndarray
    low: np.ndarray
    high: np.ndarray


class NotReady(Exception):
    """No model is loaded yet (503)."""


class PredictionService:
    def __init__(
        self,
        settings: Settings,
        holder: ModelHolder,
        metrics: Metrics,
        predlog: PredictionLog | None,
        features: OnlineFeatures | None = None,
    ) -> None:
        self.settings = settings
        self.holder = holder
        self.metrics = metrics
        self.predlog = predlog
        self.features = features  # the online feature store (PP_FEATURE_STORE=feast)
        # its reads block; a few threads, not the loop's pool of 40: the work holds the GIL
        self._store_pool = (
            ThreadPoolExecutor(max_workers=STORE_THREADS, thread_name_prefix="features")
            if features is not None
            else None
        )
        self.cache = PredictionCache(settings.cache_size)
        self.experiment = Experiment(
            settings.ab_experiment_id, settings.ab_weight, settings.shadow, settings.shadow_sample
        )
        self._shadow_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadow")
        self._shadow_pending = 0
        self._shadow_lock = threading.Lock()

    def choose(self, client_id: str | None) -> str:
        """The variant for this client; champion when no challenger is loaded."""
        variant = assign(self.experiment, client_id)
        if variant == CHALLENGER and self.holder.get(CHALLENGER) is None:
            return CHAMPION
        return variant

    def shadow(self, request_id: str, rows: list[dict[str, Any]], client_id: str | None) -> None:
        """Score the challenger in the background; never raises, never waits."""
        exp = self.experiment
        challenger = self.holder.get(CHALLENGER)
        if not exp.shadow or challenger is None or random.random() >= exp.shadow_sample:
            return
        with self._shadow_lock:
            if self._shadow_pending >= MAX_SHADOW_BACKLOG:
                self.metrics.shadow.labels("dropped").inc()
                return
            self._shadow_pending += 1
        self._shadow_pool.submit(self._shadow_run, challenger, request_id, rows, client_id)

    def _shadow_run(
        self, m: LoadedModel, request_id: str, rows: list[dict[str, Any]], client_id: str | None
    ) -> None:
        t0 = time.perf_counter()
        try:
            scored = self.score(m, rows, CHALLENGER)
            self.log_predictions(
                m,
                CHALLENGER,
                request_id,
                rows,
                scored,
                (time.perf_counter() - t0) * 1000,
                client_id,
                shadow=True,
            )
            self.metrics.shadow.labels("scored").inc()
        except Exception:  # a failing challenger must never touch the champion's answer
            self.metrics.shadow.labels("error").inc()
            log.exception("shadow scoring failed", extra={"request_id": request_id})
        finally:
            with self._shadow_lock:
                self._shadow_pending -= 1

    async def with_store(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` (which reads the feature store) off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._store_pool, functools.partial(fn, *args))

    def close(self) -> None:
        self._shadow_pool.shutdown(wait=True, cancel_futures=False)
        if self._store_pool is not None:
            self._store_pool.shutdown(wait=True, cancel_futures=True)

    def model(self, variant: str = CHAMPION) -> LoadedModel:
        m = self.holder.get(variant) or self.holder.get(CHAMPION)
        if m is None:
            raise NotReady(self.holder.last_error or "model not loaded yet")
        return m

    def score(self, m: LoadedModel, rows: list[dict[str, Any]], variant: str) -> Scored:
        log_price = self._predict_log_cached(m, rows)
        low, high = m.model.price_range(log_price)
        price = m.model.to_price(log_price)
        names = m.schema.api_names
        notes = [row_notes(m.model, r, names) for r in rows]
        imputed = [n.imputed for n in notes]
        warnings = [n.warnings for n in notes]
        series = self.metrics.variant(variant)
        series.rows.inc(len(rows))
        for p in price[:1000]:
            series.price.observe(float(p))
        return Scored(log_price, price, low, high, imputed, warnings)

    def score_table(self, m: LoadedModel, table: Table, variant: str) -> TableScore:
        """A columnar batch: prices and ranges, vectorised end to end (no per-row Python)."""
        log_price = m.model.predict_log(table)
        low, high = m.model.price_range(log_price)
        price = m.model.to_price(log_price)
        series = self.metrics.variant(variant)
        series.rows.inc(len(table))
        # a sample keeps the histogram's shape; observing is ~4 us a value, in the request
        for p in price[:: max(1, len(price) // PRICE_SAMPLE)][:PRICE_SAMPLE].tolist():
            series.price.observe(p)
        return TableScore(price, low, high)

    def log_table(
        self,
        m: LoadedModel,
        variant: str,
        request_id: str,
        table: Table,
        scored: TableScore,
        latency_ms: float,
        client_id: str | None = None,
    ) -> None:
        """One record for the whole batch (its rows are expanded when read)."""
        if self.predlog is None:
            return
        meta = {
            "request_id": request_id,
            "model_name": m.name,
            "model_version": m.version,
            "variant": variant,
            "client_id": client_id,
            "spec_hash": m.schema.digest,
            "latency_ms": latency_ms,
        }
        self.predlog.add_batch(meta, table.columns, (scored.price, scored.low, scored.high))

    def _predict_log_cached(self, m: LoadedModel, rows: list[dict[str, Any]]) -> np.ndarray:
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
                    "price": price,
                    "price_low": low,
                    "price_high": high,
                    "latency_ms": latency_ms,
                    "spec_hash": m.schema.digest,
                }
                for i, (r, price, low, high) in enumerate(
                    zip(
                        rows,
                        scored.price.tolist(),
                        scored.low.tolist(),
                        scored.high.tolist(),
                        strict=True,
                    )
                )
            ]
        )


class RowNotes(NamedTuple):
    imputed: list[str]  # snake_case names of the features the model imputed
    warnings: list[str]


def row_notes(model: Any, row: dict[str, Any], names: dict[str, str]) -> RowNotes:
    """What a response says about one row (field names as the API spells them): imputed
    features (and missing location inputs when the model has a location effect), and
    warnings for missing key features and for numbers outside what the model was trained on."""
    encoder = model.encoder
    missing = encoder.missing_features(row)
    warnings = []
    absent = set(missing)
    key = [names[c] for c in encoder.spec.key_features if c in absent]
    if key:
        warnings.append(
            f"key feature(s) missing, imputed: {', '.join(key)}; the price is less reliable"
        )
    warnings += [
        f"{names[c]}={v:g} is outside the training range [{lo:g}, {hi:g}]: "
        "the model prices it as the nearest houses it has seen"
        for c, v, lo, hi in encoder.out_of_range(row)
    ]
    imputed = [names[c] for c in missing]
    if model.location is not None:
        imputed += [
            names[c] for c in model.location.columns if row.get(c) is None and c not in absent
        ]
    return RowNotes(imputed, warnings)
