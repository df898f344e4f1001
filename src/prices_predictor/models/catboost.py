"""CatBoost gradient boosting (symmetric trees).

Not monotone-constrained: CatBoost's constraints on oblivious trees cost too much accuracy
here (holdout RMSE 0.166 vs 0.108), so it is offered but not in the default blend.
"""

from __future__ import annotations

from typing import Any

from prices_predictor.models.base import FeatureContext, ModelStrategy


class CatBoostStrategy(ModelStrategy):
    name = "catboost"
    description = "CatBoost (oblivious trees)"

    def build(self, params: dict[str, Any], ctx: FeatureContext) -> Any:
        # lazy: a training library: served models score without it
        from catboost import CatBoostRegressor

        return CatBoostRegressor(
            iterations=params.get("iterations", 2000),
            learning_rate=params.get("learning_rate", 0.04),
            depth=params.get("depth", 6),
            l2_leaf_reg=params.get("l2_leaf_reg", 3.0),
            rsm=params.get("rsm", 0.5),
            random_seed=ctx.seed,
            thread_count=ctx.n_jobs,
            allow_writing_files=False,
            verbose=False,
        )

    def suggest(self, trial: Any) -> dict[str, Any]:
        return {
            "iterations": trial.suggest_int("iterations", 500, 3000, step=250),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.1, log=True),
            "depth": trial.suggest_int("depth", 4, 8),
            "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 0.5, 10, log=True),
        }
