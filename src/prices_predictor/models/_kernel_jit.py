"""The numba kernels behind ``kernel.Kernel`` (imported only when a model is compiled).

Node ``n`` splits on ``feature[n]``: it goes to ``children[n, 1]`` when the value is greater
than ``threshold[n]``, else to ``children[n, 0]``. Nodes from ``first_leaf`` on are leaves
that point to themselves (threshold +inf), so a walk of ``depth[t]`` steps always ends on
the leaf, whatever its depth: that lets blocks of rows walk a tree in lock step.
"""

from __future__ import annotations

import numpy as np
from numba import njit

BLOCK = 32


@njit(cache=True, nogil=True)  # type: ignore[misc]
def _linear(x: np.ndarray, intercept: float, coef: np.ndarray, is_log: np.ndarray) -> float:
    s = intercept
    for j in range(x.shape[0]):
        v = x[j]
        if is_log[j]:
            v = np.log1p(v if v > 0.0 else 0.0)
        s += coef[j] * v
    return s


# Keeps the GIL: for a few rows, handing it over to a waiting thread costs more than the walk.
@njit(cache=True)  # type: ignore[misc]
def score_rows(
    X: np.ndarray,
    start: int,
    stop: int,
    intercept: float,
    coef: np.ndarray,
    is_log: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    children: np.ndarray,
    value: np.ndarray,
    roots: np.ndarray,
    depth: np.ndarray,
    as32: np.ndarray,
    first_leaf: int,
    out: np.ndarray,
) -> None:
    """Row by row, each walk stopping at its leaf: the fastest for a few rows."""
    for i in range(start, stop):
        x = X[i]
        s = _linear(x, intercept, coef, is_log)
        for t in range(roots.shape[0]):
            node = roots[t]
            if as32[t]:
                while node < first_leaf:
                    v = np.float64(np.float32(x[feature[node]]))
                    node = children[node, 1] if v > threshold[node] else children[node, 0]
            else:
                while node < first_leaf:
                    v = x[feature[node]]
                    node = children[node, 1] if v > threshold[node] else children[node, 0]
            s += value[node]
        out[i] = s


@njit(cache=True, nogil=True)  # type: ignore[misc]
def score_blocks(
    X: np.ndarray,
    start: int,
    stop: int,
    intercept: float,
    coef: np.ndarray,
    is_log: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    children: np.ndarray,
    value: np.ndarray,
    roots: np.ndarray,
    depth: np.ndarray,
    as32: np.ndarray,
    first_leaf: int,
    out: np.ndarray,
) -> None:
    """Blocks of rows walk each tree in lock step (independent walks overlap on the core).

    X may be C- or Fortran-ordered: each block is copied into small row-major buffers.
    """
    nf = X.shape[1]
    x64 = np.empty((BLOCK, nf))
    x32 = np.empty((BLOCK, nf))
    node = np.empty(BLOCK, np.int64)
    acc = np.empty(BLOCK)
    for b0 in range(start, stop, BLOCK):
        nb = min(BLOCK, stop - b0)
        for j in range(nf):
            for r in range(nb):
                v = X[b0 + r, j]
                x64[r, j] = v
                x32[r, j] = np.float64(np.float32(v))
        for r in range(nb):
            acc[r] = _linear(x64[r], intercept, coef, is_log)
        for t in range(roots.shape[0]):
            xs = x32 if as32[t] else x64
            for r in range(nb):
                node[r] = roots[t]
            for _ in range(depth[t]):
                for r in range(nb):
                    n = node[r]
                    node[r] = children[n, np.int64(xs[r, feature[n]] > threshold[n])]
            for r in range(nb):
                acc[r] += value[node[r]]
        for r in range(nb):
            out[b0 + r] = acc[r]
