"""Run the ZenML pipelines and read their outputs back."""

from __future__ import annotations

from typing import Any

from prices_predictor.errors import UserError
from prices_predictor.settings import Settings


def _output(run: Any, step: str, name: str) -> Any:
    return run.steps[step].outputs[name][0].load()


def _run(pipeline: Any, **kwargs: Any) -> Any:
    from zenml.client import Client

    try:
        run = pipeline.with_options(enable_cache=None)(**kwargs)
    except UserError:
        raise
    except Exception as exc:
        cause: BaseException = exc
        while cause.__cause__ is not None and not isinstance(cause, UserError):
            cause = cause.__cause__
        if isinstance(cause, UserError):
            raise cause from None
        raise
    return Client().get_pipeline_run(run.id)


def run_training(
    s: Settings, data: str, fingerprint: str, model: str, tune: bool
) -> tuple[str, dict[str, float]]:
    """Run ``training_pipeline``; returns the registered version and all metrics."""
    from prices_predictor.pipelines.training import training_pipeline

    run = _run(
        training_pipeline,
        data=data,
        fingerprint=fingerprint,
        model=model,
        tune=tune,
        target=s.target,
        test_size=s.test_size,
        seed=s.seed,
        max_living_area=s.outlier_max_living_area,
    )
    version = str(_output(run, "register_model", "model_version"))
    metrics = {
        **_output(run, "evaluate_model", "holdout_metrics"),
        **_output(run, "fit_model", "cv_metrics"),
    }
    return version, metrics


def run_deployment(s: Settings, version: str) -> dict[str, Any]:
    """Run ``deployment_pipeline`` for ``version``; returns the gate decision."""
    from prices_predictor.pipelines.deployment import deployment_pipeline

    run = _run(deployment_pipeline, candidate_version=version)
    decision: dict[str, Any] = _output(run, "promote_model", "decision")
    return decision
