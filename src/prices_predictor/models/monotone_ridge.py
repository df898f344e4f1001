"""Ridge regression whose slope in chosen columns can never be negative.

The Ridge member sees standardised columns ``z`` and products ``z_i * z_j`` (see
``linear.Interactions``). A product of a monotone column with a one-hot level gives that
level its own slope, which an unconstrained fit may turn negative (e.g. quality in the 41
family sales of the Ames training part). Here the slope of every monotone column is kept
>= 0 for every level pattern seen in training and for houses in none of them, so the member
is monotone in those columns by construction, not by luck of the data.

The fit solves the Ridge problem with those linear constraints exactly: the unconstrained
solution when it is feasible, else through the dual, a non-negative least-squares problem
with one variable per constraint.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.optimize import nnls
from sklearn.linear_model import Ridge


def slope_constraints(
    X: np.ndarray,
    n_base: int,
    pairs: tuple[tuple[int, int], ...],
    increasing: tuple[int, ...],
    decreasing: tuple[int, ...] = (),
) -> np.ndarray:
    """Rows ``g`` with ``g @ coef`` = the slope in a monotone column for one level pattern
    (negated for a column that must never raise the price, so that ``g @ coef >= 0`` always).

    ``X`` holds ``n_base`` columns followed by one product column per pair (i, j). The slope
    in column q is ``coef[q] + sum(coef[n_base + k] * z_j)`` over its pairs k; ``z_j`` takes
    the values of the training rows' levels, plus every column's minimum (a house in none
    of the levels: a one-hot column standardised is smallest where it is 0).
    """
    rows: list[np.ndarray] = []
    signs = [(q, 1.0) for q in increasing] + [(q, -1.0) for q in decreasing]
    for q, sign in signs:
        mine = [(n_base + k, j) for k, (i, j) in enumerate(pairs) if i == q]
        cols = [c for c, _ in mine]
        levels = [j for _, j in mine]
        patterns = (
            np.unique(np.vstack([X[:, levels], X[:, levels].min(axis=0)]), axis=0)
            if mine
            else np.zeros((1, 0))
        )
        for pattern in patterns:
            g = np.zeros(X.shape[1])
            g[q] = 1.0
            g[cols] = pattern
            rows.append(sign * g)
    return np.array(rows).reshape(-1, X.shape[1])


class MonotoneRidge(Ridge):  # type: ignore[misc]
    """``Ridge`` (with intercept) whose slope in each of ``increasing`` is >= 0 (<= 0 in each
    of ``decreasing``) for every level of the ``pairs`` it takes part in."""

    def __init__(
        self,
        alpha: float = 1.0,
        pairs: tuple[tuple[int, int], ...] = (),
        increasing: tuple[int, ...] = (),
        decreasing: tuple[int, ...] = (),
    ) -> None:
        super().__init__(alpha=alpha)
        self.pairs = pairs
        self.increasing = increasing
        self.decreasing = decreasing

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: Any = None) -> MonotoneRidge:
        if sample_weight is not None:
            raise ValueError("MonotoneRidge does not take sample weights")
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        x_mean, y_mean = X.mean(axis=0), float(y.mean())
        Xc = X - x_mean
        factor = cho_factor(Xc.T @ Xc + self.alpha * np.eye(X.shape[1]))
        coef = cho_solve(factor, Xc.T @ (y - y_mean))
        pairs = tuple((int(i), int(j)) for i, j in self.pairs)
        G = slope_constraints(
            X,
            X.shape[1] - len(pairs),
            pairs,
            tuple(self.increasing),
            tuple(getattr(self, "decreasing", ())),  # models saved before it existed
        )
        if len(G) and (G @ coef < 0).any():
            coef = _constrained(factor, coef, G)
        self.coef_ = coef
        self.intercept_ = y_mean - float(x_mean @ coef)
        self.n_features_in_ = X.shape[1]
        return self


def _constrained(factor: Any, free: np.ndarray, G: np.ndarray) -> np.ndarray:
    """The Ridge optimum under ``G @ coef >= 0``, from the unconstrained one ``free``.

    Dual: min 0.5 l'Ql + l'(G free) over l >= 0 with Q = G H^-1 G', then coef = free + H^-1 G' l.
    NNLS finds which constraints are active; the multipliers of those are then solved for
    exactly (the active constraints hold as equalities), so the result meets the optimality
    conditions to rounding rather than to NNLS's stopping tolerance.
    """
    h_inv_gt = cho_solve(factor, G.T)
    q = G @ h_inv_gt
    chol = np.linalg.cholesky(q + 1e-12 * np.trace(q) * np.eye(len(q)))
    lam, _ = nnls(chol.T, -solve_triangular(chol, G @ free, lower=True))
    coef = free + h_inv_gt @ lam
    active = lam > 0
    if active.any():
        qa = q[np.ix_(active, active)]
        exact = np.zeros_like(lam)
        try:
            exact[active] = np.linalg.solve(qa, -(G[active] @ free))
        except np.linalg.LinAlgError:  # dependent active constraints: keep the NNLS answer
            return coef
        polished = free + h_inv_gt @ exact
        scale = np.abs(G).sum(axis=1) * np.abs(polished).max()
        # accepted only where it is still a KKT point: multipliers >= 0, every constraint met
        if (exact >= 0).all() and (G @ polished >= -1e-12 * scale).all():
            return np.asarray(polished)
    return np.asarray(coef)
