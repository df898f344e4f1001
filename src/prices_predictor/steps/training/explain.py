"""Step: SHAP on the holdout; global importance table, bar and beeswarm plots to MLflow."""

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


@step(enable_cache=False)
def explain_model(
    price_model: PriceModel, holdout: pd.DataFrame, mlflow_run_id: str
) -> Annotated[list[dict[str, Any]], "global_importance"]:
    with progress.stage("explain (SHAP)"):
        # lazy: MLflow (~2 s) stays off start-up paths that do not need it
        import mlflow

        configure(get_settings())
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
