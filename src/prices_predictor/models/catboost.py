"""CatBoost gradient boosting (symmetric trees), monotone where the spec promises it.

A candidate member of the blend: it gets a weight when the blend's weights are chosen for
the data (``models/weights.py``). Fitted on the centred target (``catboost_centered``):
with monotone constraints, CatBoost alone ends far off the target's level.
"""

from __future__ import annotations

from typing import Any

from prices_predictor.models.base import FeatureContext, ModelStrategy

# the strategy's estimator, and the plain one of models trained before it
CATBOOST_KINDS = ("CenteredCatBoost", "CatBoostRegressor")


class CatBoostStrategy(ModelStrategy):
    name = "catboost"
    description = "CatBoost (oblivious trees)"

    def build(self, params: dict[str, Any], ctx: FeatureContext) -> Any:
        # lazy: a training library: served models score without it
        from prices_predictor.models.catboost_centered import CenteredCatBoost

        monotone = ctx.monotone_vector()
        extra = {"monotone_constraints": monotone} if any(monotone) else {}
        return CenteredCatBoost(
            iterations=params.get("iterations", 1000),
            learning_rate=params.get("learning_rate", 0.08),
            depth=params.get("depth", 6),
            l2_leaf_reg=params.get("l2_leaf_reg", 3.0),
            rsm=params.get("rsm", 0.5),
            random_seed=ctx.seed,
            thread_count=ctx.n_jobs,
            allow_writing_files=False,
            verbose=False,
            **extra,
        )

    def suggest(self, trial: Any) -> dict[str, Any]:
        return {
            "iterations": trial.suggest_int("iterations", 500, 3000, step=250),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.1, log=True),
            "depth": trial.suggest_int("depth", 4, 8),
            "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 0.5, 10, log=True),
        }
