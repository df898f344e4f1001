"""Tolerances for comparing two computations of the same numbers, derived from the arithmetic.

The rule the suite follows: when two code paths compute the same quantity, the test allows
what IEEE-754 rounding can make them differ by, relative to the magnitudes involved, and no
more. Nothing is tuned to one machine: numpy, OpenBLAS and the scoring kernels pick different
instructions (AVX-512, AVX2, NEON) by CPU, and thread counts change summation orders, so the
last bits differ between machines while the bounds below hold on any of them. Paths that do
the same operations in the same order (the encoder's one-row and vectorised paths, the three
kernels) are compared exactly.
"""

from __future__ import annotations

import numpy as np

EPS64 = float(np.finfo(np.float64).eps)  # 2.2e-16
EPS32 = float(np.finfo(np.float32).eps)  # 1.2e-7


def reordered_sum(n_terms: int, abs_sum: float | np.ndarray) -> float:
    """Two float64 sums of the same ``n_terms`` terms in different orders (or with the terms
    folded differently, e.g. a scaler folded into coefficients) differ by at most
    ~``n_terms * eps * sum(|terms|)`` (the classical bound for recursive summation); 4x that
    covers the products that form the terms."""
    return 4.0 * n_terms * EPS64 * float(np.max(abs_sum))


def float32_trees(n_trees: int, magnitude: float | np.ndarray) -> float:
    """XGBoost and scikit-learn's forests add their trees' outputs in float32; our kernel adds
    the same leaves in float64. Each float32 addition rounds the running sum (about the log
    price) by up to ``eps32 / 2`` of it; over ``n_trees`` additions those errors accumulate like
    a random walk, ``sqrt(n) * eps32 * |sum|``, plus the final rounding. 4 standard deviations
    of the walk keep the many rows a test compares inside it, while a wrong leaf or a wrong
    split direction (a leaf is ~1e-3 of log price or more) stays far outside."""
    return 4.0 * (np.sqrt(n_trees) + 1.0) * EPS32 * float(np.max(np.abs(magnitude)))


def n_trees(regressor: object) -> int:
    """Trees in a fitted XGBoost/LightGBM/CatBoost/forest model or in every member of a blend."""
    members = getattr(regressor, "members", None)
    if members is not None:
        return sum(n_trees(est) for _, est, _ in members)
    if hasattr(regressor, "get_booster"):
        return int(regressor.get_booster().num_boosted_rounds())
    if hasattr(regressor, "booster_"):
        return int(regressor.booster_.num_trees())
    if hasattr(regressor, "tree_count_"):
        return int(regressor.tree_count_)
    return len(getattr(regressor, "estimators_", []))


def linear_terms(pipe: object, X: np.ndarray) -> np.ndarray:
    """Per row, the sum of |terms| our Ridge pipeline adds up (|intercept| + |coef| . |t(x)|,
    plus its products): the magnitude its rounding error scales with."""
    from prices_predictor.models.linear import linear_parts

    parts = linear_parts(pipe)
    assert parts is not None
    T = np.clip(X, parts.lo, parts.hi)
    T[:, parts.log_cols] = np.log1p(np.clip(T[:, parts.log_cols], 0, None))
    total = abs(parts.intercept) + np.abs(T) @ np.abs(parts.coef)
    if len(parts.pairs):
        prods = np.abs(T[:, parts.pairs[:, 0]] * T[:, parts.pairs[:, 1]])
        total = total + prods @ np.abs(parts.pair_coef)
    return np.asarray(total)
