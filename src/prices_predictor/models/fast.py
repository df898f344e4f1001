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
from prices_predictor.models.linear import Interactions, SkewLog
from prices_predictor.models.monotone_ridge import MonotoneRidge

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
    """Our Ridge pipeline (models saved before interactions existed have a plain Ridge and
    no interaction step)."""
    if not isinstance(reg, Pipeline):
        return False
    kinds = [type(s) for _, s in reg.steps]
    return kinds in (
        [SkewLog, StandardScaler, Ridge],
        [SkewLog, StandardScaler, Interactions, MonotoneRidge],
    )


def linear_steps(
    pipe: Pipeline,
) -> tuple[SkewLog, StandardScaler, tuple[tuple[int, int], ...], Ridge]:
    """The Ridge pipeline's transform, scaler, interaction pairs and Ridge."""
    steps = [s for _, s in pipe.steps]
    pairs = steps[2].pairs if len(steps) == 4 else ()
    return steps[0], steps[1], tuple(pairs), steps[-1]


class LinearParts(NamedTuple):
    """Our Ridge pipeline as ``coef @ t(x) + intercept + sum(pair_coef * t(x)[i] * t(x)[j])``
    over ``pairs`` (i, j), the scaler folded in, where ``t`` clips x to [lo, hi] and takes
    log1p of the columns in ``log_cols``."""

    coef: np.ndarray
    intercept: float
    log_cols: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    pairs: np.ndarray  # (k, 2) column indices
    pair_coef: np.ndarray  # (k,)


def linear_parts(est: Any) -> LinearParts | None:
    """Our Ridge pipeline's parts; None if ``est`` is not one."""
    if not _is_linear(est):
        return None
    skew, scaler, pairs, ridge = linear_steps(est)
    n = len(scaler.mean_)
    scale = np.asarray(scaler.scale_, dtype=np.float64)
    scale = np.where(scale == 0, 1.0, scale)
    mean = np.asarray(scaler.mean_, dtype=np.float64)
    coef = ridge.coef_[:n] / scale
    intercept = float(ridge.intercept_ - np.dot(mean, coef))
    # b * z_i * z_j with z = (t - mean) / scale expands into a product term plus linear ones
    ij = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    i, j = ij[:, 0], ij[:, 1]
    c = ridge.coef_[n:] / (scale[i] * scale[j])
    np.add.at(coef, i, -c * mean[j])
    np.add.at(coef, j, -c * mean[i])
    intercept += float(np.sum(c * mean[i] * mean[j]))
    return LinearParts(coef, intercept, skew.columns_, *skew.bounds(n), ij, c)


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
