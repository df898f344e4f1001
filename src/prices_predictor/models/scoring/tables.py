"""The flattened model: a linear part plus one node table of every tree, packed for the
numba kernels (``_jit``). Leaves are absorbing nodes after the internal ones, so a walk of a
tree's depth always ends on its leaf; a leaf's value sits in its threshold field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# trees one row walks together in ``_jit.score_rows`` (their loads overlap)
GROUP = 16

NODE = np.dtype(
    [("threshold", "f8"), ("feature", "i4"), ("left", "i4"), ("right", "i4")], align=True
)


class Unsupported(Exception):
    """The estimator cannot be flattened; the caller falls back to the library."""


@dataclass
class Tables:
    """Flattened model: linear part plus a node table of all trees."""

    n_features: int
    intercept: float = 0.0
    coef: np.ndarray = field(init=False)
    log_cols: np.ndarray | None = None  # None until a linear member is added
    lo: np.ndarray = field(init=False)  # the linear part's input range
    hi: np.ndarray = field(init=False)
    pairs: np.ndarray = field(init=False)  # (k, 2) columns of the linear part's products
    pair_coef: np.ndarray = field(init=False)
    feature: list[np.ndarray] = field(default_factory=list)
    threshold: list[np.ndarray] = field(default_factory=list)
    left: list[np.ndarray] = field(default_factory=list)
    right: list[np.ndarray] = field(default_factory=list)
    leaf: list[np.ndarray] = field(default_factory=list)
    roots: list[int] = field(default_factory=list)
    as32: list[bool] = field(default_factory=list)
    n_nodes: int = 0
    n_leaves: int = 0

    def __post_init__(self) -> None:
        self.coef = np.zeros(self.n_features)
        self.lo = np.full(self.n_features, -np.inf)
        self.hi = np.full(self.n_features, np.inf)
        self.pairs = np.zeros((0, 2), dtype=np.int64)
        self.pair_coef = np.zeros(0)

    @classmethod
    def one_split(cls) -> Tables:
        """A model of one tree with one split: enough to compile every kernel."""
        t = cls(n_features=2)
        t.add_tree(
            np.array([0, 0, 0]),
            np.array([0.5, 0.0, 0.0]),
            np.array([1, -1, -1]),
            np.array([2, -1, -1]),
            {1: 0.0, 2: 1.0},
            as32=True,
        )
        return t

    def add_tree(
        self,
        feature: np.ndarray,
        threshold: np.ndarray,
        left: np.ndarray,
        right: np.ndarray,
        leaf_of: dict[int, float],
        *,
        as32: bool,
    ) -> None:
        """Add one tree given per-node arrays where leaves are the keys of ``leaf_of``.

        Internal nodes are renumbered densely; a child pointer ``c < 0`` means leaf ``~c``.
        """
        nodes = [i for i in range(len(feature)) if i not in leaf_of]
        node_id = {n: self.n_nodes + k for k, n in enumerate(nodes)}
        leaf_id = {n: self.n_leaves + k for k, n in enumerate(leaf_of)}

        def ref(i: int) -> int:
            return node_id[i] if i in node_id else ~leaf_id[i]

        self.feature.append(np.array([feature[n] for n in nodes], dtype=np.int64))
        self.threshold.append(np.array([threshold[n] for n in nodes], dtype=np.float64))
        self.left.append(np.array([ref(int(left[n])) for n in nodes], dtype=np.int64))
        self.right.append(np.array([ref(int(right[n])) for n in nodes], dtype=np.int64))
        self.leaf.append(np.array(list(leaf_of.values()), dtype=np.float64))
        self.roots.append(ref(0))
        self.as32.append(as32)
        self.n_nodes += len(nodes)
        self.n_leaves += len(leaf_of)

    def packed(self) -> Packed:
        """Arrays for the kernel: leaves become absorbing nodes after the internal ones."""
        nn, nl = self.n_nodes, self.n_leaves

        def cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

        def absorb(child: np.ndarray) -> np.ndarray:
            return np.where(child >= 0, child, nn + ~child)

        sink = nn + np.arange(nl)
        children = np.column_stack(
            [
                np.concatenate([absorb(cat(self.left, np.int64)), sink]),
                np.concatenate([absorb(cat(self.right, np.int64)), sink]),
            ]
        )
        roots = absorb(np.array(self.roots, dtype=np.int64))
        is_log = np.zeros(self.n_features, dtype=np.bool_)
        if self.log_cols is not None:
            is_log[self.log_cols] = True
        return Packed(
            n_features=self.n_features,
            intercept=self.intercept,
            coef=np.ascontiguousarray(self.coef, dtype=np.float64),
            is_log=is_log,
            lo=np.ascontiguousarray(self.lo, dtype=np.float64),
            hi=np.ascontiguousarray(self.hi, dtype=np.float64),
            pair_i=np.ascontiguousarray(self.pairs[:, 0], dtype=np.int64),
            pair_j=np.ascontiguousarray(self.pairs[:, 1], dtype=np.int64),
            pair_coef=np.ascontiguousarray(self.pair_coef, dtype=np.float64),
            feature=np.concatenate([cat(self.feature, np.int32), np.zeros(nl, np.int32)]),
            threshold=np.concatenate([cat(self.threshold, np.float64), np.full(nl, np.inf)]),
            children=np.ascontiguousarray(children, dtype=np.int32),
            value=np.concatenate([np.zeros(nn), cat(self.leaf, np.float64)]),
            roots=roots.astype(np.int32),
            depth=np.array([_depth(children, nn, int(r)) for r in roots], dtype=np.int32),
            as32=np.array(self.as32, dtype=np.bool_),
            first_leaf=nn,
        )


def _depth(children: np.ndarray, first_leaf: int, node: int) -> int:
    """Longest path from ``node`` to a leaf (iterative: trees can be deep)."""
    best, stack = 0, [(node, 0)]
    while stack:
        n, d = stack.pop()
        if n >= first_leaf:
            best = max(best, d)
        else:
            stack += [(int(children[n, 0]), d + 1), (int(children[n, 1]), d + 1)]
    return best


@dataclass(frozen=True)
class Packed:
    """What the numba kernels read (see ``_jit``)."""

    n_features: int
    intercept: float
    coef: np.ndarray
    is_log: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    children: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: np.ndarray
    as32: np.ndarray
    first_leaf: int
    lo: np.ndarray | None = None  # None in models saved before the linear part was clipped
    hi: np.ndarray | None = None
    pair_i: np.ndarray | None = None  # None in models saved before the linear interactions
    pair_j: np.ndarray | None = None
    pair_coef: np.ndarray | None = None

    def nodes(self) -> np.ndarray:
        """The node table as records (one cache line per step instead of three arrays);
        leaves carry their value in the threshold field (see ``_jit``)."""
        out = np.empty(len(self.feature), dtype=NODE)
        out["threshold"] = self.threshold
        out["threshold"][self.first_leaf :] = self.value[self.first_leaf :]
        out["feature"] = self.feature
        out["left"] = self.children[:, 0]
        out["right"] = self.children[:, 1]
        return out

    def linear_args(self) -> tuple[Any, ...]:
        """The linear part's kernel arguments: intercept, coef, is_log, lo, hi and the
        product terms' columns and coefficients (pair_i, pair_j, pair_coef)."""
        inf = np.full(self.n_features, np.inf)
        none = np.zeros(0, dtype=np.int64)
        return (
            self.intercept,
            self.coef,
            self.is_log,
            -inf if self.lo is None else self.lo,
            inf if self.hi is None else self.hi,
            none if self.pair_i is None else self.pair_i,
            none if self.pair_j is None else self.pair_j,
            np.zeros(0) if self.pair_coef is None else self.pair_coef,
        )

    def args(self) -> tuple[Any, ...]:
        return (
            *self.linear_args(),
            self.nodes(),
            self.roots,
            self.depth,
            self.as32,
            self.first_leaf,
        )
