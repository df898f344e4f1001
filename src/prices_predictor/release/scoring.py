"""Score registered versions on the protocol holdout, recomputed from the data."""

from __future__ import annotations

import pandas as pd

from prices_predictor.core.settings import Settings
from prices_predictor.data.ingest import load
from prices_predictor.data.split import drop_outliers, protocol_split
from prices_predictor.evaluation.baseline import Baseline
from prices_predictor.evaluation.holdout import score
from prices_predictor.spec.model import DataSpec
from prices_predictor.tracking.registry import load_price_model, version_info


def protocol_parts(s: Settings, data: str, spec: DataSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training part (outliers dropped) and the holdout of ``data``, as training cut them."""
    df = load(data, spec.target.column)
    train, holdout = protocol_split(df, s.test_size, s.seed)
    return drop_outliers(train, spec.outliers), holdout


def score_version(s: Settings, version: str, data: str | None = None) -> dict[str, float]:
    """Metrics of ``version`` on the holdout of ``data`` (default: the data it was trained on)."""
    info = version_info(s.model_name, version)
    data = data or info.tags.get("data_source") or s.data
    model = load_price_model(s.model_name, version)
    train, holdout = protocol_parts(s, data, model.spec)
    return score(model, holdout, Baseline.fit(train, model.spec))
