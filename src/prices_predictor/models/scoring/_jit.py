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

from prices_predictor.models.scoring._simd import (
    LANES,
    and_lanes,
    bits_f64,
    f64_bits,
    lane_mask,
    lowest_bit,
)
from prices_predictor.models.scoring.tables import GROUP

BLOCK = 32


_SQRT2 = 1.4142135623730951
_LN2_HI = 6.93147180369123816490e-01  # ln 2 in two parts (the usual fdlibm split)
_LN2_LO = 1.90821492927058770002e-10
_LG = (  # the fdlibm minimax coefficients of log(1 + f) on [sqrt(1/2), sqrt(2)]
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)


@njit(cache=True, inline="always")  # type: ignore[misc]
def log1p_nonneg(v: float) -> float:
    """log1p(v) for finite v >= 0, within ~2 ulp, in arithmetic LLVM vectorises (libm's
    log1p is one call per value)."""
    u = 1.0 + v
    fix = (v - (u - 1.0)) / u  # what rounding 1 + v lost
    b = f64_bits(u)
    e = (b >> 52) - 1023
    m = bits_f64((b & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000)  # u = m * 2**e, m in [1, 2)
    big = m > _SQRT2
    m = m * 0.5 if big else m
    k = float(e + 1) if big else float(e)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    r = z * (
        _LG[0]
        + z * (_LG[1] + z * (_LG[2] + z * (_LG[3] + z * (_LG[4] + z * (_LG[5] + z * _LG[6])))))
    )
    h = 0.5 * f * f
    return k * _LN2_HI - ((h - (s * (h + r) + k * _LN2_LO + fix)) - f)


@njit(cache=True, inline="always")  # type: ignore[misc]
def _t(v: float, lo: float, hi: float, is_log: bool) -> float:
    """The linear part's input transform: clip to the training range, log1p if skewed."""
    v = min(max(v, lo), hi)
    if is_log:
        v = log1p_nonneg(v if v > 0.0 else 0.0)
    return v


@njit(cache=True, nogil=True)  # type: ignore[misc]
def _linear(
    x: np.ndarray,
    intercept: float,
    coef: np.ndarray,
    is_log: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    pair_i: np.ndarray,
    pair_j: np.ndarray,
    pair_coef: np.ndarray,
) -> float:
    s = intercept
    for j in range(x.shape[0]):
        s += coef[j] * _t(x[j], lo[j], hi[j], is_log[j])
    for p in range(pair_i.shape[0]):
        a, b = pair_i[p], pair_j[p]
        s += pair_coef[p] * _t(x[a], lo[a], hi[a], is_log[a]) * _t(x[b], lo[b], hi[b], is_log[b])
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
    pair_i: np.ndarray,
    pair_j: np.ndarray,
    pair_coef: np.ndarray,
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
        s = _linear(x, intercept, coef, is_log, lo, hi, pair_i, pair_j, pair_coef)
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
    pair_i: np.ndarray,
    pair_j: np.ndarray,
    pair_coef: np.ndarray,
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
            acc[r] = _linear(x64[r], intercept, coef, is_log, lo, hi, pair_i, pair_j, pair_coef)
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


@njit(cache=True, nogil=True)  # type: ignore[misc]
def score_qs(
    X: np.ndarray,
    start: int,
    stop: int,
    intercept: float,
    coef: np.ndarray,
    is_log: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    pair_i: np.ndarray,
    pair_j: np.ndarray,
    pair_coef: np.ndarray,
    group_start: np.ndarray,
    group_threshold: np.ndarray,
    group_node: np.ndarray,
    node_tree: np.ndarray,
    node_mask: np.ndarray,
    leaf_start: np.ndarray,
    leaf_value: np.ndarray,
    ones: np.ndarray,
    out: np.ndarray,
) -> None:
    """Blocks of LANES rows, QuickScorer style (see ``quickscorer``): the block is transposed
    into ``xt`` (feature-major, missing rows padded with -inf), the linear part and every
    threshold comparison then run over all lanes at once."""
    nf = X.shape[1]
    nt = leaf_start.shape[0]
    xt = np.empty(nf * LANES)
    bits = np.empty(nt * LANES, node_mask.dtype)
    acc = np.empty(LANES)
    one = np.uint64(1)
    for b0 in range(start, stop, LANES):
        nb = min(LANES, stop - b0)
        for j in range(nf):
            for r in range(nb):
                xt[j * LANES + r] = X[b0 + r, j]
            for r in range(nb, LANES):
                xt[j * LANES + r] = -np.inf
        for r in range(LANES):
            acc[r] = intercept
        for j in range(nf):
            c, a, b, o = coef[j], lo[j], hi[j], j * LANES
            if is_log[j]:
                for r in range(LANES):
                    v = min(max(xt[o + r], a), b)
                    acc[r] += c * log1p_nonneg(v if v > 0.0 else 0.0)
            else:
                for r in range(LANES):
                    acc[r] += c * min(max(xt[o + r], a), b)
        for p in range(pair_i.shape[0]):
            i, j, c = pair_i[p], pair_j[p], pair_coef[p]
            for r in range(LANES):
                acc[r] += (
                    c
                    * _t(xt[i * LANES + r], lo[i], hi[i], is_log[i])
                    * _t(xt[j * LANES + r], lo[j], hi[j], is_log[j])
                )
        bits[:] = ones[0]
        for j in range(nf):
            g, end = group_start[j], group_start[j + 1]
            while g < end:
                lanes = lane_mask(xt, j * LANES, group_threshold[g])
                if lanes == 0:  # thresholds ascend: no row exceeds the rest either
                    break
                for nd in range(group_node[g], group_node[g + one]):
                    and_lanes(bits, np.int64(node_tree[nd]) * LANES, lanes, node_mask[nd])
                g += one
        for t in range(nt):
            first = np.int64(leaf_start[t])
            for r in range(LANES):
                acc[r] += leaf_value[first + lowest_bit(bits[t * LANES + r])]
        for r in range(nb):
            out[b0 + r] = acc[r]
