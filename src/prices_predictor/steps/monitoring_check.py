"""Step: the live drift check (monitoring pipeline)."""

from typing import Annotated, Any

import pandas as pd
from zenml import step

from prices_predictor.core.settings import get_settings
from prices_predictor.tracking.loading import served_model


@step(enable_cache=False)
def live_drift_check(last: int | None = None) -> Annotated[dict[str, Any], "drift_result"]:
    from prices_predictor.monitoring.live import live_check  # lazy: imports Evidently

    s = get_settings()
    m = served_model(s)
    if m.reference is None:
        raise RuntimeError(f"model v{m.version} has no training reference sample")
    result = live_check(
        s,
        pd.read_parquet(m.reference),
        m.metadata.get("importance", []),
        m.model.spec,
        last=last,
    )
    return result.as_dict()
