"""The numba kernels behind ``kernel.Kernel`` (imported only when a model is compiled).

Node ``n`` is the record ``nodes[n]`` (``kernel.NODE``: threshold, feature, left, right in
24 bytes, so a step reads one cache line): it goes right when the value of its feature is
greater than its threshold, else left. Nodes from ``first_leaf`` on are leaves that point to
themselves both ways, so a walk of ``depth[t]`` steps always ends on the leaf, whatever its
depth: that lets blocks of rows walk a tree in lock step. A leaf's threshold field holds its
value (its comparison leads to itself either way), read from the line the walk just loaded.
"""

from __future__ import annotations

import numpy as np
from numba import njit

BLOCK = 32
GROUP = 16


@njit(cache=True, nogil=True)  # type: ignore[misc]
def _linear(
    x: np.ndarray,
    intercept: float,
    coef: np.ndarray,
    is_log: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> float:
    s = intercept
    for j in range(x.shape[0]):
        v = min(max(x[j], lo[j]), hi[j])
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
    lo: np.ndarray,
    hi: np.ndarray,
    nodes: np.ndarray,
    roots: np.ndarray,
    depth: np.ndarray,
    as32: np.ndarray,
    first_leaf: int,
    out: np.ndarray,
    groups: np.ndarray,
) -> None:
    """Row by row; each row walks a group of trees in lock step (``groups``: rows of first
    tree, end, depth, float32 flag). One walk is a chain of dependent loads; a group's walks
    are independent, so the core overlaps them (2-3x faster than one tree after another)."""
    nf = X.shape[1]
    x32 = np.empty(nf)
    node = np.empty(GROUP, np.int64)
    for i in range(start, stop):
        x = X[i]
        for j in range(nf):
            x32[j] = np.float64(np.float32(x[j]))
        s = _linear(x, intercept, coef, is_log, lo, hi)
        for g in range(groups.shape[0]):
            a, b, d = groups[g, 0], groups[g, 1], groups[g, 2]
            xs = x32 if groups[g, 3] else x
            for k in range(b - a):
                node[k] = roots[a + k]
            for _ in range(d):
                for k in range(b - a):
                    nd = nodes[node[k]]
                    node[k] = nd["right"] if xs[nd["feature"]] > nd["threshold"] else nd["left"]
            for k in range(b - a):
                s += nodes[node[k]]["threshold"]
        out[i] = s


@njit(cache=True, nogil=True)  # type: ignore[misc]
def score_blocks(
    X: np.ndarray,
    start: int,
    stop: int,
    intercept: float,
    coef: np.ndarray,
    is_log: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    nodes: np.ndarray,
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
            acc[r] = _linear(x64[r], intercept, coef, is_log, lo, hi)
        for t in range(roots.shape[0]):
            xs = x32 if as32[t] else x64
            for r in range(nb):
                node[r] = roots[t]
            for _ in range(depth[t]):
                for r in range(nb):
                    nd = nodes[node[r]]
                    node[r] = nd["right"] if xs[r, nd["feature"]] > nd["threshold"] else nd["left"]
            for r in range(nb):
                acc[r] += nodes[node[r]]["threshold"]
        for r in range(nb):
            out[b0 + r] = acc[r]
