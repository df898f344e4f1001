"""The baseline every model must beat: the training part's median price per unit of size.

Priced as ``size * median(price / size)`` over the training sales (the spec's size column,
e.g. living area); a house without a usable size, or a spec without one, gets the median
price. Scored on the same holdout as the model, it makes the threshold gate mean the same on
any data: a model must be clearly better than what a spreadsheet would say.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from prices_predictor.spec.model import DataSpec
from prices_predictor.spec.target import to_model


@dataclass(frozen=True)
class Baseline:
    size: str | None
    per_size: float | None  # median price per unit of size
    median_price: float

    @classmethod
    def fit(cls, train: pd.DataFrame, spec: DataSpec) -> Baseline:
        price = pd.to_numeric(train[spec.target.column], errors="coerce").to_numpy(np.float64)
        median = float(np.nanmedian(price))
        if spec.size is None or spec.size not in train.columns:
            return cls(None, None, median)
        size = pd.to_numeric(train[spec.size], errors="coerce").to_numpy(np.float64)
        ok = np.isfinite(size) & (size > 0) & np.isfinite(price)
        if ok.sum() < 10:
            return cls(None, None, median)
        return cls(spec.size, float(np.median(price[ok] / size[ok])), median)

    def predict_price(self, rows: pd.DataFrame) -> np.ndarray:
        out = np.full(len(rows), self.median_price)
        if self.size is not None and self.per_size is not None and self.size in rows.columns:
            size = pd.to_numeric(rows[self.size], errors="coerce").to_numpy(np.float64)
            ok = np.isfinite(size) & (size > 0)
            out[ok] = size[ok] * self.per_size
        return out

    def rmse(self, holdout: pd.DataFrame, spec: DataSpec) -> float:
        """RMSE on the model's scale (log price) over the holdout."""
        t = spec.target
        y = to_model(pd.to_numeric(holdout[t.column]).to_numpy(np.float64), t.transform)
        pred = to_model(self.predict_price(holdout), t.transform)
        return float(np.sqrt(np.mean((pred - y) ** 2)))

    def describe(self) -> str:
        if self.size is None:
            return f"median price {self.median_price:,.0f}"
        return f"median price per {self.size}: {self.per_size:,.2f}"
