"""Step: the protocol holdout split; outliers leave the training part only."""

from typing import Annotated, Any

import pandas as pd
from zenml import step

from prices_predictor.core import progress
from prices_predictor.data.split import drop_outliers, protocol_split
from prices_predictor.spec.io import from_dict


@step(enable_cache=True)
def split_data(
    raw_data: pd.DataFrame,
    validation_report: dict[str, Any],
    spec: dict[str, Any],
    test_size: float = 0.2,
    seed: int = 42,
) -> tuple[Annotated[pd.DataFrame, "train"], Annotated[pd.DataFrame, "holdout"]]:
    with progress.stage("split (protocol holdout)"):
        train, holdout = protocol_split(raw_data, test_size, seed)
        return drop_outliers(train, from_dict(spec).outliers), holdout
