"""ZenML training pipeline: ingest, validate, split, fit, drift, evaluate, explain, register."""

from typing import Any

from zenml import pipeline

from prices_predictor.steps.training.drift import training_drift
from prices_predictor.steps.training.evaluate import evaluate_model
from prices_predictor.steps.training.explain import explain_model
from prices_predictor.steps.training.fit import fit_model
from prices_predictor.steps.training.ingest import ingest_data
from prices_predictor.steps.training.register import register_model
from prices_predictor.steps.training.split import split_data
from prices_predictor.steps.training.validate import validate_data


@pipeline(enable_cache=True)
def training_pipeline(
    data: str,
    fingerprint: str,
    spec: dict[str, Any],
    model: str = "blend",
    tune: bool = False,
    test_size: float = 0.2,
    seed: int = 42,
) -> str:
    """``spec``: the data spec as plain data (a step parameter, so part of the cache key)."""
    raw = ingest_data(data=data, fingerprint=fingerprint, target=spec["target"]["column"])
    report = validate_data(raw, source=data, spec=spec)
    train, holdout = split_data(raw, report, spec=spec, test_size=test_size, seed=seed)
    price_model, cv_metrics, run_id = fit_model(
        train, spec=spec, model=model, tune=tune, data_fingerprint=fingerprint
    )
    training_drift(train, price_model, run_id)
    holdout_metrics = evaluate_model(price_model, train, holdout, run_id)
    importance = explain_model(price_model, holdout, run_id)
    version = register_model(
        price_model,
        train,
        cv_metrics,
        holdout_metrics,
        run_id,
        data=data,
        data_fingerprint=fingerprint,
        validation_report=report,
        global_importance=importance,
        after="training_drift",
    )
    return version  # type: ignore[no-any-return]
