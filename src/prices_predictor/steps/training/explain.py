"""Step: SHAP on the holdout; global importance table, bar and beeswarm plots to MLflow.

A large holdout is explained on a sample of it (``EXPLAIN_ROWS`` houses, a fixed seed):
importance is a mean of absolute effects, steady long before that, and a beeswarm of more
points shows no more; on 60,000 houses SHAP would take minutes of the training."""

import tempfile
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from zenml import step

from prices_predictor.core import progress
from prices_predictor.core.settings import get_settings
from prices_predictor.evaluation.plots import importance_bar, shap_beeswarm
from prices_predictor.models.explain import explain, global_importance
from prices_predictor.models.price_model import PriceModel
from prices_predictor.tracking.mlflow_env import configure

EXPLAIN_ROWS = 5000


def explained_rows(holdout: pd.DataFrame, rows: int = EXPLAIN_ROWS) -> pd.DataFrame:
    """The holdout, or ``rows`` of its houses drawn with a fixed seed when it has more."""
    return holdout if len(holdout) <= rows else holdout.sample(rows, random_state=0)


@step(enable_cache=False)
def explain_model(
    price_model: PriceModel, holdout: pd.DataFrame, mlflow_run_id: str
) -> Annotated[list[dict[str, Any]], "global_importance"]:
    with progress.stage("explain (SHAP)"):
        # lazy: MLflow (~2 s) stays off start-up paths that do not need it
        import mlflow

        configure(get_settings())
        holdout = explained_rows(holdout)
        exp = explain(price_model, holdout)
        importance = global_importance(exp)
        with mlflow.start_run(run_id=mlflow_run_id), tempfile.TemporaryDirectory() as tmp:
            mlflow.log_dict({"importance": importance}, "explain/importance.json")
            mlflow.log_artifact(
                str(importance_bar(importance, Path(tmp) / "importance.png")), "explain"
            )
            mlflow.log_artifact(
                str(shap_beeswarm(exp, holdout, Path(tmp) / "beeswarm.png")), "explain"
            )
        return importance
