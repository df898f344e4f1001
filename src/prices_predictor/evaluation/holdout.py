"""A fitted model's protocol metrics on holdout rows (and the baseline's, on the same rows)."""

from __future__ import annotations

import pandas as pd

from prices_predictor.data.split import log_target
from prices_predictor.evaluation.baseline import Baseline
from prices_predictor.evaluation.metrics import interval_coverage, regression_metrics
from prices_predictor.models.price_model import PriceModel


def score(
    model: PriceModel, holdout: pd.DataFrame, baseline: Baseline | None = None
) -> dict[str, float]:
    """Protocol metrics on the holdout; with ``baseline``, its RMSE on the same rows too."""
    t = model.spec.target
    y = log_target(holdout, t.column, t.transform)
    pred = model.predict_log(holdout)
    m = regression_metrics(y, pred, t.transform)
    m["interval_coverage"] = interval_coverage(y, pred, model.interval_halfwidth)
    if baseline is not None:
        m["baseline_rmse"] = baseline.rmse(holdout, model.spec)
        m["baseline_gain"] = 1.0 - m["rmse"] / m["baseline_rmse"]
    return m
