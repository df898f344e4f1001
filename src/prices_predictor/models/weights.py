"""Blend weights chosen from the members' out-of-fold predictions (ensemble selection).

The default weights were chosen on Ames, where the linear member is strong; on a file
whose prices are far from linear in its columns, they leave accuracy on the table. The
members' out-of-fold predictions (computed anyway for the CV) say what each is worth on this
data. Weights are searched on a grid of the simplex (non-negative, summing to one) and, so
the CV a model reports stays honest, scored cross-fitted: each fold's rows are blended with
weights chosen on the other folds only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from sklearn.model_selection import KFold

STEPS = 20  # grid of 0.05
# re-chosen weights replace the defaults only when the cross-fitted out-of-fold RMSE is at
# least this much lower: smaller differences are within what another fold seed changes
REWEIGHT_MIN_GAIN = 0.01


@dataclass(frozen=True)
class WeightChoice:
    weights: np.ndarray  # chosen on every row: the final model's
    oof: np.ndarray  # cross-fitted blend of the out-of-fold predictions


def rmse(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((pred - y) ** 2)))


@cache
def simplex_grid(members: int, steps: int = STEPS) -> np.ndarray:
    """Every weight vector with entries in multiples of 1/steps summing to one (columns)."""

    def parts(n: int, k: int) -> list[tuple[int, ...]]:
        if k == 1:
            return [(n,)]
        return [(i, *rest) for i in range(n, -1, -1) for rest in parts(n - i, k - 1)]

    return np.array(parts(steps, members), dtype=np.float64).T / steps


def best_weights(residuals: np.ndarray) -> np.ndarray:
    """The grid's weights with the least squared error; ``residuals``: member predictions
    minus the target, one column per member (weights sum to one, so the blend's residual is
    ``residuals @ w``)."""
    grid = simplex_grid(residuals.shape[1])
    gram = residuals.T @ residuals
    sse = np.einsum("ig,ig->g", grid, gram @ grid)
    return np.asarray(grid[:, int(np.argmin(sse))])


def choose_weights(member_oof: np.ndarray, y: np.ndarray, folds: int, seed: int) -> WeightChoice:
    """Weights for the members whose out-of-fold predictions are the columns of
    ``member_oof``; the blend's own out-of-fold predictions use weights chosen without
    the fold (the folds of ``train.cross_validate``)."""
    residuals = member_oof - y[:, None]
    oof = np.empty(len(y))
    for fit_idx, val_idx in KFold(folds, shuffle=True, random_state=seed).split(y):
        oof[val_idx] = member_oof[val_idx] @ best_weights(residuals[fit_idx])
    return WeightChoice(best_weights(residuals), oof)
