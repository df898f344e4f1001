"""Protocol metrics; y are the model's target scale (log1p(price) by default)."""

from __future__ import annotations

import numpy as np

from prices_predictor.spec.target import to_price


def regression_metrics(
    y_log: np.ndarray, pred_log: np.ndarray, transform: str = "log1p"
) -> dict[str, float]:
    """RMSE/MSE/R2 in log space, MAE in dollars, median absolute percentage error."""
    err = pred_log - y_log
    mse = float(np.mean(err**2))
    ss_tot = float(np.sum((y_log - y_log.mean()) ** 2))
    price, pred_price = to_price(y_log, transform), to_price(pred_log, transform)
    return {
        "rmse": mse**0.5,
        "mse": mse,
        "r2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan"),
        "mae_dollars": float(np.mean(np.abs(pred_price - price))),
        "median_ape": float(np.median(np.abs(pred_price - price) / price)),
    }


def interval_coverage(y_log: np.ndarray, pred_log: np.ndarray, halfwidth: float) -> float:
    """Share of rows whose true log price lies within pred +- halfwidth."""
    return float(np.mean(np.abs(y_log - pred_log) <= halfwidth))


def conformal_halfwidth(residuals: np.ndarray, coverage: float) -> float:
    """Split-conformal quantile of |residual| with the finite-sample correction."""
    r = np.sort(np.abs(residuals))
    n = len(r)
    k = min(n - 1, int(np.ceil((n + 1) * coverage)) - 1)
    return float(r[max(k, 0)])
