"""Step: log the model (signature, example, bundle files) and register a new version."""

import datetime as dt
import subprocess
from typing import Annotated, Any

import pandas as pd
from zenml import get_step_context, step

from prices_predictor import __version__
from prices_predictor.core import progress
from prices_predictor.core.settings import get_settings
from prices_predictor.models.price_model import PriceModel
from prices_predictor.tracking.mlflow_env import configure
from prices_predictor.tracking.registry import log_price_model, register, set_version_tags

# CV metrics listed beside the holdout ones (`models --json`, the registry's version tags)
LISTED_CV = (
    "cv_rmse_mean",
    "cv_rmse_std",
    "tune_default_cv_rmse",
    "tune_best_cv_rmse",
    "tune_gain",
)


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@step(enable_cache=False)
def register_model(
    price_model: PriceModel,
    train: pd.DataFrame,
    cv_metrics: dict[str, float],
    holdout_metrics: dict[str, float],
    mlflow_run_id: str,
    data: str,
    data_fingerprint: str,
    validation_report: dict[str, Any],
    global_importance: list[dict[str, Any]],
    refit_full: bool = False,
) -> Annotated[str, "model_version"]:
    with progress.stage("register in MLflow"):
        # lazy: MLflow (~2 s) stays off start-up paths that do not need it
        import mlflow

        s = get_settings()
        configure(s)
        trained_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        tags = {
            "data_source": data,
            "data_fingerprint": data_fingerprint,
            "data_rows": str(validation_report["rows"]),
            "split_seed": str(s.seed),
            "test_size": str(s.test_size),
            "git_commit": git_commit(),
            "strategy": price_model.strategy,
            "trained_at": trained_at,
            "refit_full": str(refit_full).lower(),
            "zenml_run": get_step_context().pipeline_run.name,
            "package_version": __version__,
            "spec": price_model.spec.name,
            "spec_digest": price_model.spec.digest(),
        }
        metadata: dict[str, Any] = {
            "name": s.model_name,
            "strategy": price_model.strategy,
            "trained_at": trained_at,
            "metrics": {**holdout_metrics, **cv_metrics},
            "features": {
                "numeric": price_model.spec.numeric,
                "categorical": price_model.spec.categorical,
                "encoded": price_model.feature_names,
            },
            "spec": price_model.spec.model_dump(mode="json"),
            "spec_digest": price_model.spec.digest(),
            "interval": {
                "coverage": price_model.interval_coverage,
                "halfwidth_log": price_model.interval_halfwidth,
            },
            "tags": tags,
            "importance": global_importance,
        }
        price_model.metadata = metadata
        with mlflow.start_run(run_id=mlflow_run_id):
            mlflow.set_tags(tags)
            uri = log_price_model(price_model, train, metadata)
        version = register(uri, s.model_name, mlflow_run_id, tags)
        listed = {**holdout_metrics, **{k: cv_metrics[k] for k in LISTED_CV if k in cv_metrics}}
        set_version_tags(
            s.model_name, version, {f"metric.{k}": round(v, 6) for k, v in listed.items()}
        )
        return version
