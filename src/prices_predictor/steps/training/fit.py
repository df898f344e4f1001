"""Step: (optionally tune, then) fit the strategy on the training part; opens the MLflow run."""

import json
import logging
import time
from typing import Annotated, Any

import pandas as pd
from zenml import get_step_context, step

from prices_predictor.core import progress
from prices_predictor.core.settings import get_settings
from prices_predictor.models.price_model import PriceModel
from prices_predictor.models.strategies import default_params
from prices_predictor.models.train import CVScore, fit_price_model, location_config
from prices_predictor.models.tuning import tune as tune_params
from prices_predictor.spec.io import from_dict
from prices_predictor.steps.materializers import PriceModelMaterializer
from prices_predictor.tracking.mlflow_env import configure

log = logging.getLogger(__name__)


@step(enable_cache=False, output_materializers={"price_model": PriceModelMaterializer})
def fit_model(
    train: pd.DataFrame,
    spec: dict[str, Any],
    model: str,
    tune: bool = False,
    data_fingerprint: str = "",
) -> tuple[
    Annotated[PriceModel, "price_model"],
    Annotated[dict[str, float], "cv_metrics"],
    Annotated[str, "mlflow_run_id"],
]:
    with progress.stage("fit (CV, final fit)"):
        # lazy: MLflow (~2 s) stays off start-up paths that do not need it
        import mlflow

        s = get_settings()
        configure(s)
        data_spec = from_dict(spec, "spec")
        params = default_params(s.params_file, data_spec)
        run_name = get_step_context().pipeline_run.name
        with mlflow.start_run(run_name=run_name) as run:
            mlflow.set_tags(
                {"zenml_run": run_name, "strategy": model, "data_fingerprint": data_fingerprint}
            )
            cv_args: dict[str, Any] = {
                "spec": data_spec,
                "folds": s.cv_folds,
                "seed": s.seed,
                "n_jobs": s.n_jobs,
            }
            wanted = location_config(data_spec)
            tuned: dict[str, float] = {}
            judged: CVScore | None = None
            if tune:
                params, tuned, judged = _tune(train, model, params, cv_args, wanted)
            result = fit_price_model(
                train,
                model,
                params,
                **cv_args,
                coverage=s.interval_coverage,
                location=wanted,
                cv=judged,
            )
            location = result.model.location
            if wanted is not None and location is None:
                cols = ", ".join(data_spec.location_columns())
                log.warning("no usable %s values: no location effect", cols)
            flat = {
                f"{k}": json.dumps(v) if isinstance(v, dict) else v
                for k, v in result.model.params.items()
            }
            mlflow.log_params(
                {
                    "model": model,
                    "tuned": tune,
                    "cv_folds": s.cv_folds,
                    "seed": s.seed,
                    "test_size": s.test_size,
                    "location": location.describe() if location is not None else "none",
                    "spec": data_spec.name,
                    "spec_digest": data_spec.digest(),
                    **{k: str(v)[:500] for k, v in flat.items()},
                }
            )
            cv: dict[str, Any] = {
                "cv_rmse_mean": result.cv_rmse_mean,
                "cv_rmse_std": result.cv_rmse_std,
                "interval_halfwidth_log": result.model.interval_halfwidth,
                "fit_seconds": result.fit_seconds,
                **tuned,
                "train_rows": float(len(train)),
                **(location.summary() if location is not None else {}),
            }
            mlflow.log_metrics(cv)
        return result.model, cv, run.info.run_id


def _tune(
    train: pd.DataFrame,
    model: str,
    params: dict[str, Any],
    cv_args: dict[str, Any],
    location: Any,
) -> tuple[dict[str, Any], dict[str, float], CVScore | None]:
    """Tune within the settings' budget: (parameters to fit, metrics to record, their CV)."""
    # lazy: MLflow (~2 s) stays off start-up paths that do not need it
    import mlflow

    s = get_settings()
    t0 = time.perf_counter()
    result = tune_params(
        train,
        model,
        params,
        **cv_args,
        trials=s.tune_trials,
        timeout_s=s.tune_timeout_s,
        location=location,
    )
    chosen = "; ".join(
        f"{member}: "
        + ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()
        )
        for member, values in result.changed.items()
    )
    note = result.summary() + (f"; chosen {chosen}" if chosen else "")
    progress.current().finished("tune", time.perf_counter() - t0, note)
    log.info("tuning: %s", note)
    metrics = {
        "tune_default_cv_rmse": result.default_cv,
        "tune_best_cv_rmse": result.tuned_cv,
        "tune_gain": result.gain,
        "tune_trials": float(result.trials),
        "tune_kept_defaults": float(result.kept_defaults),
    }
    mlflow.log_dict({"params": result.params, "changed": result.changed}, "tuned_params.json")
    return result.params, metrics, result.score
