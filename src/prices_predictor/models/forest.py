"""Random forest (sklearn), monotone in living area and quality."""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import RandomForestRegressor

from prices_predictor.models.base import FeatureContext, ModelStrategy


class RandomForestStrategy(ModelStrategy):
    name = "random_forest"
    description = "sklearn RandomForestRegressor"

    def build(self, params: dict[str, Any], ctx: FeatureContext) -> Any:
        return RandomForestRegressor(
            n_estimators=params.get("n_estimators", 300),
            max_features=params.get("max_features", 0.33),
            min_samples_leaf=params.get("min_samples_leaf", 1),
            monotonic_cst=ctx.monotone_vector(),
            random_state=ctx.seed,
            n_jobs=ctx.n_jobs,
        )

    def suggest(self, trial: Any) -> dict[str, Any]:
        return {
            "n_estimators": trial.suggest_int("n_estimators", 100, 500, step=100),
            "max_features": trial.suggest_float("max_features", 0.1, 0.6),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 5),
        }
