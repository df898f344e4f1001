"""Compile a fitted regressor into a lean predict function for serving.

sklearn's ``predict`` validates input and, for the boosters, goes through thread pools: for
one row that costs more than the trees. The compiled function gives the same numbers (tested)
with one thread for small inputs and every core for large ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from prices_predictor.models.blend import Blend
from prices_predictor.models.linear import is_linear, linear_parts
from prices_predictor.models.scoring.flatten import flatten
from prices_predictor.models.scoring.kernel import PARALLEL_ROWS, Kernel
from prices_predictor.models.scoring.tables import Unsupported

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
    if is_linear(reg):
        return _linear(reg)
    try:
        # lazy: a training library: served models score without it
        from xgboost import XGBRegressor

        if isinstance(reg, XGBRegressor):
            return _xgboost(reg, n_jobs)
    except ImportError:  # pragma: no cover
        pass
    try:
        # lazy: a training library: served models score without it
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


def _linear(pipe: Pipeline) -> Predict:
    parts = linear_parts(pipe)
    assert parts is not None
    coef, intercept, cols, lo, hi, pairs, pair_coef = parts

    def linear(X: np.ndarray) -> np.ndarray:
        Z = np.clip(X, lo, hi)
        Z[:, cols] = np.log1p(np.clip(Z[:, cols], 0, None))
        out = Z @ coef + intercept
        if len(pairs):
            out += (Z[:, pairs[:, 0]] * Z[:, pairs[:, 1]]) @ pair_coef
        return np.asarray(out, dtype=np.float64)

    return linear


def _xgboost(reg: Any, n_jobs: int) -> Predict:
    many = reg.get_booster()
    one = many.copy()
    one.set_param({"nthread": 1})

    def xgb(X: np.ndarray) -> np.ndarray:
        booster = one if X.shape[0] < PARALLEL_ROWS else many
        return np.asarray(booster.inplace_predict(X), dtype=np.float64)

    return xgb
