"""Step: score the fitted model on the protocol holdout; metrics and plots to MLflow."""

import tempfile
from pathlib import Path
from typing import Annotated

import pandas as pd
from zenml import step

from prices_predictor.core import progress
from prices_predictor.core.settings import get_settings
from prices_predictor.data.split import log_target
from prices_predictor.evaluation import plots
from prices_predictor.evaluation.baseline import Baseline
from prices_predictor.evaluation.holdout import score
from prices_predictor.models.price_model import PriceModel
from prices_predictor.tracking.mlflow_env import configure


@step(enable_cache=False)
def evaluate_model(
    price_model: PriceModel, train: pd.DataFrame, holdout: pd.DataFrame, mlflow_run_id: str
) -> Annotated[dict[str, float], "holdout_metrics"]:
    """Protocol metrics, and the baseline (median price per size, fitted on ``train``) on the
    same holdout rows."""
    with progress.stage("evaluate on the holdout"):
        # lazy: MLflow (~2 s) stays off start-up paths that do not need it
        import mlflow

        configure(get_settings())
        spec = price_model.spec
        y = log_target(holdout, spec.target.column, spec.target.transform)
        pred = price_model.predict_log(holdout)
        metrics = score(price_model, holdout, Baseline.fit(train, spec))
        metrics["holdout_rows"] = float(len(holdout))
        with mlflow.start_run(run_id=mlflow_run_id), tempfile.TemporaryDirectory() as tmp:
            mlflow.log_metrics(metrics)
            mlflow.log_artifact(
                str(plots.predicted_vs_actual(y, pred, Path(tmp) / "pred_vs_actual.png")), "plots"
            )
            mlflow.log_artifact(str(plots.residuals(y, pred, Path(tmp) / "residuals.png")), "plots")
        return metrics
