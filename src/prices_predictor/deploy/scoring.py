"""Score registered versions on the protocol holdout, recomputed from the data."""

from __future__ import annotations

import pandas as pd

from prices_predictor.data.ingest import load
from prices_predictor.data.split import log_target, protocol_split
from prices_predictor.evaluation.metrics import interval_coverage, regression_metrics
from prices_predictor.models.price_model import PriceModel
from prices_predictor.settings import Settings
from prices_predictor.tracking.registry import load_price_model, version_info


def holdout_for(s: Settings, data: str) -> pd.DataFrame:
    df = load(data, s.target)
    return protocol_split(df, s.test_size, s.seed)[1]


def score(model: PriceModel, holdout: pd.DataFrame, target: str) -> dict[str, float]:
    y = log_target(holdout, target)
    pred = model.predict_log(holdout)
    m = regression_metrics(y, pred)
    m["interval_coverage"] = interval_coverage(y, pred, model.interval_halfwidth)
    return m


def score_version(s: Settings, version: str, data: str | None = None) -> dict[str, float]:
    """Metrics of ``version`` on the holdout of ``data`` (default: the data it was trained on)."""
    info = version_info(s.model_name, version)
    data = data or info.tags.get("data_source") or s.data
    return score(load_price_model(s.model_name, version), holdout_for(s, data), s.target)
