"""A weighted average of other strategies' models (in log-price space)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from prices_predictor.models.base import FeatureContext, ModelStrategy


class Blend(BaseEstimator, RegressorMixin):  # type: ignore[misc]
    """Fits every member on the same rows; predicts the weighted mean."""

    def __init__(self, members: list[tuple[str, Any, float]]) -> None:
        self.members = members

    def fit(self, X: np.ndarray, y: np.ndarray) -> Blend:
        for _, est, _ in self.members:
            est.fit(X, y)
        return self

    @property
    def weights(self) -> np.ndarray:
        w = np.array([m[2] for m in self.members], dtype=np.float64)
        return w / w.sum()

    def predict(self, X: np.ndarray) -> np.ndarray:
        preds = np.column_stack([est.predict(X) for _, est, _ in self.members])
        return np.asarray(preds @ self.weights)


class BlendStrategy(ModelStrategy):
    name = "blend"
    description = "weighted average of linear, XGBoost and LightGBM (CatBoost when chosen)"

    def __init__(self, registry: dict[str, ModelStrategy]) -> None:
        self._registry = registry

    def build(self, params: dict[str, Any], ctx: FeatureContext) -> Any:
        weights: dict[str, float] = params["weights"]
        member_params: dict[str, dict[str, Any]] = params.get("member_params", {})
        members = []
        for name, w in weights.items():
            if name == self.name or name not in self._registry:
                raise ValueError(f"blend member '{name}' is not a base strategy")
            est = self._registry[name].build(member_params.get(name, {}), ctx)
            members.append((name, est, float(w)))
        return Blend(members)
