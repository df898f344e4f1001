"""Compile a fitted regressor into a lean predict function for serving.

sklearn's ``predict`` validates input and, for the boosters, goes through thread pools: for
one row that costs more than the trees. The compiled function gives the same numbers (tested)
with one thread for small inputs and every core for large ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from prices_predictor.models.blend import Blend
from prices_predictor.models.kernel import PARALLEL_ROWS, Kernel, Unsupported, flatten
from prices_predictor.models.linear import SkewLog

Predict = Callable[[np.ndarray], np.ndarray]


def compile_regressor(reg: Any, n_jobs: int = 2) -> Predict:
    """A function X -> log price equal to ``reg.predict(X)`` (to ~1e-6 for the trees).

    Ridge, XGBoost, LightGBM, random forests and blends of them run in one numba kernel;
    anything else goes through its library, with one thread for small inputs.
    """
    try:
        return Kernel(flatten(reg).packed(), n_jobs)
    except Unsupported:
        return library_predict(reg, n_jobs)


def library_predict(reg: Any, n_jobs: int = 2) -> Predict:
    """``reg.predict`` through its libraries, one thread for small inputs (no kernel)."""
    if isinstance(reg, Blend):
        parts = [
            (library_predict(est, n_jobs), w)
            for (_, est, _), w in zip(reg.members, reg.weights, strict=True)
        ]

        def blend(X: np.ndarray) -> np.ndarray:
            out = np.zeros(X.shape[0])
            for f, w in parts:
                out += w * f(X)
            return out

        return blend
    if _is_linear(reg):
        return _linear(reg)
    try:
        from xgboost import XGBRegressor

        if isinstance(reg, XGBRegressor):
            return _xgboost(reg, n_jobs)
    except ImportError:  # pragma: no cover
        pass
    try:
        from lightgbm import LGBMRegressor

        if isinstance(reg, LGBMRegressor):
            booster = reg.booster_

            def lgbm(X: np.ndarray) -> np.ndarray:
                threads = 1 if X.shape[0] < PARALLEL_ROWS else n_jobs
                return np.asarray(booster.predict(X, num_threads=threads), dtype=np.float64)

            return lgbm
    except ImportError:  # pragma: no cover
        pass
    return lambda X: np.asarray(reg.predict(X), dtype=np.float64)


def _is_linear(reg: Any) -> bool:
    return isinstance(reg, Pipeline) and [type(s) for _, s in reg.steps] == [
        SkewLog,
        StandardScaler,
        Ridge,
    ]


class LinearParts(NamedTuple):
    """Our Ridge pipeline as ``coef @ t(x) + intercept``, the scaler folded in, where ``t``
    clips x to [lo, hi] and takes log1p of the columns in ``log_cols``."""

    coef: np.ndarray
    intercept: float
    log_cols: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def linear_parts(est: Any) -> LinearParts | None:
    """Our Ridge pipeline's parts; None if ``est`` is not one."""
    if not _is_linear(est):
        return None
    skew: SkewLog = est.steps[0][1]
    scaler: StandardScaler = est.steps[1][1]
    ridge: Ridge = est.steps[2][1]
    scale = np.where(scaler.scale_ == 0, 1.0, scaler.scale_) if scaler.scale_ is not None else 1.0
    coef = ridge.coef_ / scale
    intercept = float(ridge.intercept_ - np.dot(scaler.mean_, coef))
    return LinearParts(coef, intercept, skew.columns_, *skew.bounds(len(coef)))


def _linear(pipe: Pipeline) -> Predict:
    parts = linear_parts(pipe)
    assert parts is not None
    coef, intercept, cols, lo, hi = parts

    def linear(X: np.ndarray) -> np.ndarray:
        Z = np.clip(X, lo, hi)
        Z[:, cols] = np.log1p(np.clip(Z[:, cols], 0, None))
        return np.asarray(Z @ coef + intercept, dtype=np.float64)

    return linear


def _xgboost(reg: Any, n_jobs: int) -> Predict:
    many = reg.get_booster()
    one = many.copy()
    one.set_param({"nthread": 1})

    def xgb(X: np.ndarray) -> np.ndarray:
        booster = one if X.shape[0] < PARALLEL_ROWS else many
        return np.asarray(booster.inplace_predict(X), dtype=np.float64)

    return xgb
