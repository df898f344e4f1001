"""XGBoost gradient boosting, monotone in living area and quality."""

from __future__ import annotations

from typing import Any

from xgboost import XGBRegressor

from prices_predictor.models.base import FeatureContext, ModelStrategy


class XGBoostStrategy(ModelStrategy):
    name = "xgboost"
    description = "XGBoost (hist)"

    def build(self, params: dict[str, Any], ctx: FeatureContext) -> Any:
        return XGBRegressor(
            n_estimators=params.get("n_estimators", 1500),
            learning_rate=params.get("learning_rate", 0.03),
            max_depth=params.get("max_depth", 4),
            min_child_weight=params.get("min_child_weight", 2.0),
            subsample=params.get("subsample", 0.7),
            colsample_bytree=ctx.column_share(params.get("colsample_bytree", 0.5)),
            reg_lambda=params.get("reg_lambda", 1.0),
            reg_alpha=params.get("reg_alpha", 0.0),
            monotone_constraints=tuple(ctx.monotone_vector()),
            tree_method="hist",
            random_state=ctx.seed,
            n_jobs=ctx.n_jobs,
        )

    def suggest(self, trial: Any) -> dict[str, Any]:
        return {
            "n_estimators": trial.suggest_int("n_estimators", 200, 2000, step=100),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.1, log=True),
            "max_depth": trial.suggest_int("max_depth", 2, 6),
            "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 10, log=True),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.2, 0.9),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10, log=True),
        }
