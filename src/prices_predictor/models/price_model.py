"""The fitted artefact: encoder + regressor + location effect + conformal range + metadata.

Pickled, it also carries the regressor flattened for the scoring kernel, and the regressor
itself as a nested pickle that is only opened when something needs it (explanations, the
library fallback). Serving therefore starts without importing scikit-learn, XGBoost or
LightGBM.
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prices_predictor.core.extras import MissingExtra, missing_extra
from prices_predictor.features.coordinates import CoordinateEffect
from prices_predictor.features.encoder import FeatureEncoder, Rows
from prices_predictor.features.location import LocationEffect
from prices_predictor.spec.model import DataSpec
from prices_predictor.spec.target import to_price

log = logging.getLogger(__name__)

LocationModel = LocationEffect | CoordinateEffect

CHUNK_ROWS = 50_000
PIPELINE_ROWS = 40_000  # from here a batch is encoded and scored in pipelined slices
SLICE_ROWS = 10_000  # at least (encoding has ~2 ms of fixed cost per call)
_UNPICKLE_LOCK = threading.Lock()


@dataclass
class PriceModel:
    """Predicts the transformed price (log1p by default) and the price from raw rows, with an
    interval."""

    encoder: FeatureEncoder
    regressor: Any
    strategy: str
    params: dict[str, Any]
    interval_halfwidth: float  # in log-price units, from out-of-fold residuals
    interval_coverage: float
    metadata: dict[str, Any] = field(default_factory=dict)
    location: LocationModel | None = None  # added to the log prediction when set

    @property
    def spec(self) -> DataSpec:
        return self.encoder.spec

    def to_price(self, log_pred: np.ndarray) -> np.ndarray:
        """Predictions on the model's scale -> prices (the spec's inverse transform)."""
        return np.asarray(to_price(log_pred, self.spec.target.transform))

    def predict_log(self, rows: Rows, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Log prediction per row; ``progress(rows_done)`` is called as slices finish (it may
        raise to abandon the batch, e.g. a cancelled job)."""
        out = self._predict_log_features(rows, progress)
        if self.location is None:
            return out
        return out + self.location.effect(rows)

    def _predict_log_features(
        self, rows: Rows, progress: Callable[[int], None] | None
    ) -> np.ndarray:
        n = len(rows)
        if n < PIPELINE_ROWS:
            small = self.predict_log_encoded(self.encoder.transform(rows))
            if progress is not None:
                progress(n)
            return small
        # In slices, and pipelined: encoding holds the GIL on one core while the kernel scores
        # the previous slice on every core without it. Slices also keep the encoded matrix
        # small (a million rows would be ~2 GB, cache-cold).
        size = min(CHUNK_ROWS, max(SLICE_ROWS, -(-n // 8)))  # ~8 slices, within bounds
        out = np.empty(n)
        # two buffers take turns: a slice is encoded into one while the other is scored
        nf = self.encoder.n_features
        buffers = [np.empty(size * nf), np.empty(size * nf)]

        def score(a: int, X: np.ndarray) -> None:
            out[a : a + len(X)] = self.predict_log_encoded(X)

        done = 0

        def finished(f: Future[None]) -> None:
            nonlocal done
            f.result()
            done = min(n, done + size)
            if progress is not None:
                progress(done)

        with ThreadPoolExecutor(1, thread_name_prefix="pp-score") as scorer:
            queued: deque[Future[None]] = deque()
            for k, a in enumerate(range(0, n, size)):
                part = (
                    rows.iloc[a : a + size]
                    if isinstance(rows, pd.DataFrame)
                    else rows[a : a + size]
                )
                m = len(part)
                X = buffers[k % 2][: m * nf].reshape((m, nf), order="F")
                queued.append(scorer.submit(score, a, self.encoder.transform(part, out=X)))
                if len(queued) > 1:  # one slice scoring, the next one waiting: no idle core
                    finished(queued.popleft())
            for f in queued:
                finished(f)
        return out

    def predict_log_encoded(self, X: np.ndarray) -> np.ndarray:
        """The regressor's log prediction for encoded rows (no location effect)."""
        return np.asarray(self._scorer()(X), dtype=np.float64)

    def warm_kernels(self) -> None:
        """Load (or compile) the scoring kernels now rather than on the first large batch."""
        scorer = self._scorer()
        if hasattr(scorer, "warm"):
            scorer.warm()

    def _scorer(self) -> Any:
        """The compiled kernel (or the library's predict), made on first use."""
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = self.__dict__["_fast"] = self._compile()
        return fast

    def _compile(self) -> Any:
        packed = self._kernel_tables()
        if packed is not None:
            # lazy: numba and the training libraries load when a model first scores
            from prices_predictor.models.scoring.kernel import Kernel

            try:
                return Kernel(packed)
            except MissingExtra as exc:  # the same prices through the libraries, slower
                log.warning("scoring without the compiled kernel (slower): %s", exc)
        # lazy: numba and the training libraries load when a model first scores
        from prices_predictor.models.scoring.library import library_predict

        return library_predict(self.regressor)

    def _kernel_tables(self) -> Any:
        """The regressor flattened for the kernel (None if unsupported), computed once."""
        if "_packed" not in self.__dict__:
            # lazy: numba and the training libraries load when a model first scores
            from prices_predictor.models.scoring.flatten import Unsupported, flatten

            try:
                self.__dict__["_packed"] = flatten(self.regressor).packed()
            except Unsupported:
                self.__dict__["_packed"] = None
        return self.__dict__["_packed"]

    def __getattr__(self, name: str) -> Any:
        # only called when ``regressor`` is not loaded yet (see __setstate__)
        if name != "regressor" or "_regressor_pickle" not in self.__dict__:
            raise AttributeError(name)
        with _UNPICKLE_LOCK:
            if "regressor" not in self.__dict__:
                try:
                    self.__dict__["regressor"] = pickle.loads(self.__dict__["_regressor_pickle"])
                except ImportError as exc:  # e.g. a CatBoost model where catboost is absent
                    kind = self.__dict__.get("metadata", {}).get("strategy", "")
                    missing = missing_extra(exc, f"this {kind} model".replace("  ", " "))
                    if missing is None:
                        raise
                    raise missing from None
        return self.__dict__["regressor"]

    def __getstate__(self) -> dict[str, Any]:
        self._kernel_tables()
        state = {k: v for k, v in self.__dict__.items() if k not in ("_fast", "regressor")}
        if "_regressor_pickle" not in state:
            state["_regressor_pickle"] = pickle.dumps(self.regressor, protocol=5)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)  # an older pickle carries ``regressor`` itself

    def predict_price(self, rows: Rows) -> np.ndarray:
        return self.to_price(self.predict_log(rows))

    def price_range(self, log_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The conformal range, in dollars, around log predictions."""
        return self.to_price(log_pred - self.interval_halfwidth), self.to_price(
            log_pred + self.interval_halfwidth
        )

    @property
    def feature_names(self) -> list[str]:
        return self.encoder.feature_names
