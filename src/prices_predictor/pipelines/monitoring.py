"""ZenML monitoring pipeline: the live drift check (retraining is chained by the CLI)."""

from typing import Any

from zenml import pipeline

from prices_predictor.steps.monitoring_check import live_drift_check


@pipeline(enable_cache=False)
def monitoring_pipeline(last: int | None = None) -> Any:
    return live_drift_check(last=last)
