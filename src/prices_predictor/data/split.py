"""The fixed evaluation protocol: one holdout split, outliers dropped from training only."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from prices_predictor.spec.model import Outlier
from prices_predictor.spec.target import to_model


def protocol_split(
    df: pd.DataFrame, test_size: float = 0.2, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``train_test_split(test_size, random_state=seed)`` over all rows; index reset."""
    train, test = train_test_split(df, test_size=test_size, random_state=seed)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def training_rows(n: int, test_size: float = 0.2, seed: int = 42) -> np.ndarray:
    """A boolean mask of the rows ``protocol_split`` puts in the training part (the split
    depends on the row count only); every row when there are too few to split (training
    stops later, saying so)."""
    if n < 2:
        return np.ones(n, dtype=bool)
    train, _ = train_test_split(np.arange(n), test_size=test_size, random_state=seed)
    mask = np.zeros(n, dtype=bool)
    mask[train] = True
    return mask


def drop_outliers(train: pd.DataFrame, rules: Sequence[Outlier]) -> pd.DataFrame:
    """The spec's outlier rules (Ames: De Cock's advice, living area > 4000 sq ft) applied to
    the training part only; a rule on a column the data lacks does nothing."""
    keep = np.ones(len(train), dtype=bool)
    for rule in rules:
        if rule.column not in train.columns:
            continue
        v = pd.to_numeric(train[rule.column], errors="coerce").to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            if rule.max is not None:
                keep &= ~(v > rule.max)
            if rule.min is not None:
                keep &= ~(v < rule.min)
    return train.loc[keep].reset_index(drop=True)


def log_target(df: pd.DataFrame, target: str, transform: str = "log1p") -> np.ndarray:
    """The target as the model learns it (``transform`` of the price)."""
    price = pd.to_numeric(df[target]).to_numpy(dtype=np.float64)
    return to_model(price, transform)
