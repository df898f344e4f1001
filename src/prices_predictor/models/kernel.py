"""Score a blend of Ridge + tree ensembles with one compiled (numba) kernel.

Every supported member is flattened into arrays when the model is saved: the Ridge becomes
folded coefficients, a few product terms and its inputs' training range, the trees of
XGBoost, LightGBM and scikit-learn forests one node table with blend weights folded into the
leaves. Each row then costs one pass over plain arrays, without the per-call overhead of
three libraries. Split
semantics follow each library ("go right when v > t", where v is the feature as float32 for
XGBoost and scikit-learn); the sum is taken in float64, so results match the libraries to
~1e-6 in log price.
Inputs are finite by construction (the encoder imputes every missing or infinite value), so
the libraries' missing-value directions never come into play.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from prices_predictor.models import quickscorer

# Below BLOCK_ROWS each row walks groups of trees together; from there, blocks of rows walk
# each tree together (measured crossover: 9.3 vs 13.8 us/row at 4 rows, 9.2 vs 8.8 at 8), and
# from QS_ROWS on blocks of 64 rows are scored QuickScorer style where the trees allow it (one
# block costs ~85 us whether it holds 8 or 64 rows; walking, 8 rows cost 72 us, 16 rows 123);
# from PARALLEL_ROWS on, the blocks are split over the cores.
BLOCK_ROWS = 8
QS_ROWS = 12
NODE = np.dtype(
    [("threshold", "f8"), ("feature", "i4"), ("left", "i4"), ("right", "i4")], align=True
)
PARALLEL_ROWS = 2000
PIECES_PER_JOB = 4
PIECE_ROWS = 5000  # at least (smaller pieces measured slower for 10k-row calls)


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
    """What the numba kernels read (see ``_kernel_jit``)."""

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
        leaves carry their value in the threshold field (see ``_kernel_jit``)."""
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


def flatten(reg: Any) -> Tables:
    """Flatten a supported regressor (or Blend of them); raise Unsupported otherwise."""
    from prices_predictor.models.blend import Blend
    from prices_predictor.models.fast import linear_parts

    first = reg.members[0][1] if isinstance(reg, Blend) else reg
    lin = linear_parts(first)
    n_features = len(lin[0]) if lin is not None else getattr(first, "n_features_in_", None)
    if n_features is None:
        raise Unsupported("unfitted or unknown estimator")
    tables = Tables(n_features=int(n_features))
    if isinstance(reg, Blend):
        for (_, est, _), w in zip(reg.members, reg.weights, strict=True):
            _add(tables, est, float(w))
    else:
        _add(tables, reg, 1.0)
    return tables


def _add(t: Tables, est: Any, w: float) -> None:
    from sklearn.ensemble import RandomForestRegressor

    from prices_predictor.models.fast import linear_parts

    lin = linear_parts(est)
    if lin is not None:
        if t.log_cols is not None and not (
            np.array_equal(lin.log_cols, t.log_cols)
            and np.array_equal(lin.lo, t.lo)
            and np.array_equal(lin.hi, t.hi)
        ):
            raise Unsupported("two linear members with different input transforms")
        t.coef = t.coef + w * lin.coef
        t.pairs = np.concatenate([t.pairs, lin.pairs])
        t.pair_coef = np.concatenate([t.pair_coef, w * lin.pair_coef])
        t.log_cols = np.asarray(lin.log_cols, dtype=np.int64)
        t.lo, t.hi = lin.lo, lin.hi
        t.intercept += w * lin.intercept
        return
    kind = type(est).__name__
    if kind == "XGBRegressor":
        _add_xgboost(t, est.get_booster(), w)
    elif kind == "LGBMRegressor":
        _add_lightgbm(t, est.booster_, w)
    elif isinstance(est, RandomForestRegressor):
        for tree in est.estimators_:
            _add_sklearn_tree(t, tree.tree_, w / len(est.estimators_))
    else:
        raise Unsupported(kind)


def _add_xgboost(t: Tables, booster: Any, w: float) -> None:
    learner = json.loads(booster.save_raw("json"))["learner"]
    if learner["objective"]["name"] != "reg:squarederror":
        raise Unsupported(f"xgboost objective {learner['objective']['name']}")
    model = learner["gradient_booster"]["model"]
    if learner["gradient_booster"]["name"] != "gbtree":
        raise Unsupported("xgboost booster other than gbtree")
    base = json.loads(learner["learner_model_param"]["base_score"])  # e.g. "[1.2010484E1]"
    t.intercept += w * float(np.float32(base[0] if isinstance(base, list) else base))
    for tree in model["trees"]:
        left = np.array(tree["left_children"])
        cond = np.array(tree["split_conditions"], dtype=np.float32)
        if any(tree["split_type"]) or tree["categories"]:
            raise Unsupported("xgboost categorical splits")
        # XGBoost goes right when float32(x) >= t, i.e. when float32(x) > the float32 below t.
        below = np.nextafter(cond, np.float32(-np.inf), dtype=np.float32).astype(np.float64)
        leaves = {i: w * float(cond[i]) for i in range(len(left)) if left[i] == -1}
        t.add_tree(
            np.array(tree["split_indices"]),
            below,
            left,
            np.array(tree["right_children"]),
            leaves,
            as32=True,
        )


def _add_lightgbm(t: Tables, booster: Any, w: float) -> None:
    dump = booster.dump_model()
    if dump.get("average_output") or dump["num_tree_per_iteration"] != 1:
        raise Unsupported("lightgbm model is not a plain regression ensemble")
    for info in dump["tree_info"]:
        _add_lightgbm_tree(t, info["tree_structure"], w)


def _add_lightgbm_tree(t: Tables, root: dict[str, Any], w: float) -> None:
    """Number the nodes of a nested LightGBM tree (depth-first) and add it."""
    nodes: list[dict[str, Any]] = []
    index: dict[int, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        index[id(node)] = len(nodes)
        nodes.append(node)
        if "leaf_value" not in node:
            if node["decision_type"] != "<=" or node["missing_type"] not in ("None", "NaN"):
                raise Unsupported("lightgbm split other than numeric '<='")
            stack += [node["right_child"], node["left_child"]]
    n = len(nodes)
    feature, threshold = np.zeros(n, dtype=np.int64), np.zeros(n)
    left, right = np.full(n, -1), np.full(n, -1)
    leaves: dict[int, float] = {}
    for i, node in enumerate(nodes):
        if "leaf_value" in node:
            leaves[i] = w * float(node["leaf_value"])
            continue
        feature[i] = int(node["split_feature"])
        threshold[i] = float(node["threshold"])
        left[i] = index[id(node["left_child"])]
        right[i] = index[id(node["right_child"])]
    t.add_tree(feature, threshold, left, right, leaves, as32=False)


def _add_sklearn_tree(t: Tables, tree: Any, w: float) -> None:
    left = tree.children_left
    leaves = {i: w * float(tree.value[i, 0, 0]) for i in range(tree.node_count) if left[i] == -1}
    t.add_tree(tree.feature, tree.threshold, left, tree.children_right, leaves, as32=True)


def _numba_cache_dir() -> None:
    """Point numba's cache at PP_KERNEL_CACHE_DIR (set before numba is first imported)."""
    if "NUMBA_CACHE_DIR" not in os.environ:
        from prices_predictor.settings import get_settings

        os.environ["NUMBA_CACHE_DIR"] = str(get_settings().kernel_cache)


def tree_groups(as32: np.ndarray, depth: np.ndarray, size: int) -> np.ndarray:
    """Consecutive trees walked together by one row: (first, end, depth, as32) per group.

    A group holds at most ``size`` trees that share the float32 flag; it walks as deep as its
    deepest tree (leaves absorb the extra steps).
    """
    out, t, n = [], 0, len(depth)
    while t < n:
        end = t + 1
        while end < n and end - t < size and as32[end] == as32[t]:
            end += 1
        out.append((t, end, int(depth[t:end].max()), int(as32[t])))
        t = end
    return np.array(out, dtype=np.int64).reshape(-1, 4)


class Kernel:
    """Callable X -> log price from flattened tables; thread-parallel for large X."""

    def __init__(self, packed: Packed, n_jobs: int = 2) -> None:
        _numba_cache_dir()
        from prices_predictor.models import _kernel_jit

        self.packed = packed
        self._args = self.packed.args()
        self._groups = tree_groups(packed.as32, packed.depth, _kernel_jit.GROUP)
        self._one: Any = _kernel_jit.score_rows
        self._walk: Any = _kernel_jit.score_blocks
        self._blocks: tuple[Any, tuple[Any, ...]] | None = None  # see block_kernel
        self.n_jobs = max(1, n_jobs)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def block_kernel(self) -> tuple[Any, tuple[Any, ...]]:
        """The kernel for blocks of rows and its table arguments: QuickScorer when every
        tree has at most 64 leaves, else the walk. Built on first use (~0.1 s, which a
        server's start would otherwise pay before the first one-house request)."""
        if self._blocks is None:
            with self._pool_lock:
                if self._blocks is None:
                    self._blocks = self._make_blocks()
        return self._blocks

    def _make_blocks(self) -> tuple[Any, tuple[Any, ...]]:
        from prices_predictor.models import _kernel_jit

        qs = quickscorer.build(self.packed)
        if qs is None:
            return self._walk, self._args
        ones = np.full(1, np.iinfo(qs.node_mask.dtype).max, dtype=qs.node_mask.dtype)
        tables = (qs.group_start, qs.group_threshold, qs.group_node, qs.node_tree)
        leaves = (qs.node_mask, qs.leaf_start, qs.leaf_value, ones)
        return _kernel_jit.score_qs, (*self.packed.linear_args(), *tables, *leaves)

    def warm(self) -> None:
        """Load (or compile) every kernel this model uses, for both memory layouts (the
        encoder returns rows from dicts row-major, DataFrames column-major)."""
        for n in (1, BLOCK_ROWS, QS_ROWS):
            X = np.zeros((n, self.packed.n_features))
            self(X)
            self(np.asfortranarray(X))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.packed.n_features:
            raise ValueError(f"expected (n, {self.packed.n_features}) features, got {X.shape}")
        n = X.shape[0]
        out = np.empty(n)
        if n < BLOCK_ROWS:
            self._one(np.ascontiguousarray(X), 0, n, *self._args, out, self._groups)
            return out
        if n < QS_ROWS:
            self._walk(X, 0, n, *self._args, out)
            return out
        block, args = self.block_kernel()
        if n < PARALLEL_ROWS or self.n_jobs == 1:
            block(X, 0, n, *args, out)
            return out
        with self._pool_lock:  # batch endpoints score from several threads
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.n_jobs, thread_name_prefix="pp-kernel")
        # more pieces than threads: a thread that shares its core (e.g. with a batch's encoder)
        # finishes later, and the others take its remaining pieces instead of waiting
        pieces = max(self.n_jobs, min(PIECES_PER_JOB * self.n_jobs, n // PIECE_ROWS))
        bounds = np.linspace(0, n, pieces + 1).astype(int)
        jobs = [
            self._pool.submit(block, X, int(a), int(b), *args, out)  # type: ignore[call-arg]
            for a, b in itertools.pairwise(bounds)
        ]
        for j in jobs:
            j.result()
        return out


def warm_cache() -> None:
    """Compile both kernels into the numba cache (image builds: the first start then skips it)."""
    tables = Tables(n_features=2)
    tables.add_tree(
        np.array([0, 0, 0]),
        np.array([0.5, 0.0, 0.0]),
        np.array([1, -1, -1]),
        np.array([2, -1, -1]),
        {1: 0.0, 2: 1.0},
        as32=True,
    )
    Kernel(tables.packed(), n_jobs=1).warm()


if __name__ == "__main__":
    warm_cache()
