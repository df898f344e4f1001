"""LightGBM gradient boosting, monotone in living area and quality."""

from __future__ import annotations

from typing import Any

from lightgbm import LGBMRegressor

from prices_predictor.models.base import FeatureContext, ModelStrategy


class LightGBMStrategy(ModelStrategy):
    name = "lightgbm"
    description = "LightGBM (leaf-wise)"

    def build(self, params: dict[str, Any], ctx: FeatureContext) -> Any:
        return LGBMRegressor(
            n_estimators=params.get("n_estimators", 2000),
            learning_rate=params.get("learning_rate", 0.02),
            num_leaves=params.get("num_leaves", 8),
            min_child_samples=params.get("min_child_samples", 10),
            subsample=params.get("subsample", 0.8),
            subsample_freq=1,
            colsample_bytree=ctx.column_share(params.get("colsample_bytree", 0.3)),
            reg_lambda=params.get("reg_lambda", 1.0),
            monotone_constraints=ctx.monotone_vector(),
            random_state=ctx.seed,
            n_jobs=ctx.n_jobs,
            verbose=-1,
        )

    def suggest(self, trial: Any) -> dict[str, Any]:
        return {
            "n_estimators": trial.suggest_int("n_estimators", 200, 2000, step=100),
            "learning_rate": trial.suggest_float("learning_rate", 0.005, 0.1, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 4, 32),
            "min_child_samples": trial.suggest_int("min_child_samples", 3, 30),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.1, 0.8),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10, log=True),
        }
