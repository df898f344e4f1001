"""Run the ZenML pipelines and read their outputs back."""

from __future__ import annotations

from typing import Any

from prices_predictor.core.errors import UserError
from prices_predictor.core.settings import Settings
from prices_predictor.spec.model import DataSpec


def _output(run: Any, step: str, name: str) -> Any:
    return run.steps[step].outputs[name][0].load()


def _run(pipeline: Any, **kwargs: Any) -> Any:
    # lazy: ZenML (~3 s) only to run pipelines
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
        raise UserError(_failed_step_message(pipeline.name) or str(exc)) from exc
    return Client().get_pipeline_run(run.id)


def _failed_step_message(pipeline_name: str) -> str | None:
    """'step X failed: <the step's exception message>' from the latest run of the pipeline."""
    # lazy: ZenML (~3 s) only to run pipelines
    from zenml.client import Client

    try:
        runs = Client().list_pipeline_runs(
            pipeline=pipeline_name, sort_by="desc:created", size=1, hydrate=True
        )
        for name, step in runs.items[0].steps.items():
            info = step.exception_info
            if info is not None:
                lines = (info.message or info.traceback).strip().splitlines() or ["failed"]
                return f"step {name} failed: {lines[-1] if not info.message else lines[0]}"
    except Exception:
        return None
    return None


def run_training(
    s: Settings, data: str, fingerprint: str, spec: DataSpec, model: str, tune: bool
) -> tuple[str, dict[str, float]]:
    """Run ``training_pipeline``; returns the registered version and all metrics."""
    # lazy: ZenML (~3 s) only to run pipelines
    from prices_predictor.pipelines.training import training_pipeline

    run = _run(
        training_pipeline,
        data=data,
        fingerprint=fingerprint,
        spec=spec.model_dump(mode="json"),
        model=model,
        tune=tune,
        test_size=s.test_size,
        seed=s.seed,
    )
    version = str(_output(run, "register_model", "model_version"))
    metrics = {
        **_output(run, "evaluate_model", "holdout_metrics"),
        **_output(run, "fit_model", "cv_metrics"),
    }
    return version, metrics


def run_monitoring(s: Settings, last: int | None) -> dict[str, Any]:
    """Run ``monitoring_pipeline``; returns the drift result."""
    # lazy: ZenML (~3 s) only to run pipelines
    from prices_predictor.pipelines.monitoring import monitoring_pipeline

    run = _run(monitoring_pipeline, last=last)
    result: dict[str, Any] = _output(run, "live_drift_check", "drift_result")
    return result


def run_deployment(s: Settings, version: str) -> dict[str, Any]:
    """Run ``deployment_pipeline`` for ``version``; returns the gate decision."""
    # lazy: ZenML (~3 s) only to run pipelines
    from prices_predictor.pipelines.deployment import deployment_pipeline

    run = _run(deployment_pipeline, candidate_version=version)
    decision: dict[str, Any] = _output(run, "promote_model", "decision")
    return decision
