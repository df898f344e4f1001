"""The fixed evaluation protocol: one holdout split, outliers dropped from training only."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split


def protocol_split(
    df: pd.DataFrame, test_size: float = 0.2, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``train_test_split(test_size, random_state=seed)`` over all rows; index reset."""
    train, test = train_test_split(df, test_size=test_size, random_state=seed)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def drop_outliers(train: pd.DataFrame, max_living_area: float) -> pd.DataFrame:
    """De Cock's advice: drop houses over ``max_living_area`` sq ft (training part only)."""
    if "Gr Liv Area" not in train.columns:
        return train
    area = pd.to_numeric(train["Gr Liv Area"], errors="coerce")
    keep = ~(area > max_living_area)
    return train.loc[np.asarray(keep)].reset_index(drop=True)


def log_target(df: pd.DataFrame, target: str) -> np.ndarray:
    return np.log1p(pd.to_numeric(df[target]).to_numpy(dtype=np.float64))
