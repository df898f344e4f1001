"""Step: the live drift check (monitoring pipeline)."""

from typing import Annotated, Any

import pandas as pd
from zenml import step

from prices_predictor.settings import get_settings


@step(enable_cache=False)
def live_drift_check(last: int | None = None) -> Annotated[dict[str, Any], "drift_result"]:
    from prices_predictor.cli.monitor_cmds import served_model
    from prices_predictor.monitoring.live import live_check

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
