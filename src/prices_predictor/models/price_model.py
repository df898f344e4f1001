"""The fitted artefact: encoder + regressor + conformal range + metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from prices_predictor.features.encoder import FeatureEncoder, Rows


@dataclass
class PriceModel:
    """Predicts log1p(price) and dollars from raw rows, with an interval."""

    encoder: FeatureEncoder
    regressor: Any
    strategy: str
    params: dict[str, Any]
    interval_halfwidth: float  # in log-price units, from out-of-fold residuals
    interval_coverage: float
    metadata: dict[str, Any] = field(default_factory=dict)

    def predict_log(self, rows: Rows) -> np.ndarray:
        return self.predict_log_encoded(self.encoder.transform(rows))

    def predict_log_encoded(self, X: np.ndarray) -> np.ndarray:
        fast = self.__dict__.get("_fast")
        if fast is None:
            from prices_predictor.models.fast import compile_regressor

            fast = self.__dict__["_fast"] = compile_regressor(self.regressor)
        return np.asarray(fast(X), dtype=np.float64)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_fast"}

    def predict_price(self, rows: Rows) -> np.ndarray:
        return np.expm1(self.predict_log(rows))

    def price_range(self, log_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The conformal range, in dollars, around log predictions."""
        return np.expm1(log_pred - self.interval_halfwidth), np.expm1(
            log_pred + self.interval_halfwidth
        )

    @property
    def feature_names(self) -> list[str]:
        return self.encoder.feature_names
