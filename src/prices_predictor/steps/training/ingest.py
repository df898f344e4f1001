"""Step: read the raw rows (cached while the data fingerprint is unchanged)."""

from typing import Annotated

import pandas as pd
from zenml import step

from prices_predictor.core import progress
from prices_predictor.data.ingest import load


@step(enable_cache=True)
def ingest_data(
    data: str, fingerprint: str, target: str = "SalePrice"
) -> Annotated[pd.DataFrame, "raw_data"]:
    """``fingerprint`` is part of the cache key: a changed file is read again."""
    with progress.stage("read the data"):
        return load(data, target)
