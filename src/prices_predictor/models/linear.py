"""Ridge regression on log-transformed skewed features, standardised."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import skew
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from prices_predictor.models.base import FeatureContext, ModelStrategy


class SkewLog(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Clip each column to its training range, then log1p the non-negative columns whose skew
    exceeds ``threshold`` (both chosen at fit).

    The clip keeps the Ridge from extrapolating: a house larger than any it was trained on
    is priced as the largest (trees behave so by construction). With the De Cock outliers
    removed from training, that matters for exactly such houses at prediction time.
    """

    def __init__(self, threshold: float = 0.75, clip: bool = True) -> None:
        self.threshold = threshold
        self.clip = clip

    def fit(self, X: np.ndarray, y: Any = None) -> SkewLog:
        X = np.asarray(X, dtype=np.float64)
        inf = np.full(X.shape[1], np.inf)
        self.lo_: np.ndarray = X.min(axis=0) if self.clip else -inf
        self.hi_: np.ndarray = X.max(axis=0) if self.clip else inf
        nonneg = (X >= 0).all(axis=0)
        many = np.array([len(np.unique(X[:, j])) > 10 for j in range(X.shape[1])])
        sk = np.zeros(X.shape[1])
        if many.any():
            sk[many] = np.nan_to_num(skew(X[:, many], axis=0))
        self.columns_ = np.where(nonneg & many & (np.abs(sk) > self.threshold))[0]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        out = np.array(X, dtype=np.float64, copy=True)
        lo, hi = self.bounds(out.shape[1])
        np.clip(out, lo, hi, out=out)
        out[:, self.columns_] = np.log1p(np.clip(out[:, self.columns_], 0, None))
        return out

    def bounds(self, n_features: int) -> tuple[np.ndarray, np.ndarray]:
        """The training range (unbounded for models saved before clipping existed)."""
        inf = np.full(n_features, np.inf)
        return getattr(self, "lo_", -inf), getattr(self, "hi_", inf)


class LinearStrategy(ModelStrategy):
    name = "linear"
    description = "Ridge on standardised, log-skew features"

    def build(self, params: dict[str, Any], ctx: FeatureContext) -> Any:
        return Pipeline(
            [
                (
                    "skewlog",
                    SkewLog(params.get("skew_threshold", 0.75), params.get("clip", True)),
                ),
                ("scale", StandardScaler()),
                ("ridge", Ridge(alpha=params.get("alpha", 10.0))),
            ]
        )

    def suggest(self, trial: Any) -> dict[str, Any]:
        return {"alpha": trial.suggest_float("alpha", 0.1, 100.0, log=True)}
