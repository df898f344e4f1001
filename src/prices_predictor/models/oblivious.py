"""CatBoost's symmetric (oblivious) trees as plain arrays: prices and exact TreeSHAP without
the ``catboost`` library, which the runtime image does not ship.

A fitted CatBoost member pickles as its model bytes plus this ``ObliviousForest``
(``catboost_centered``). Where catboost is importable it comes back as the CatBoost model;
where it is not, as the forest, which prices and explains the same rows identically.

An oblivious tree tests split k at every node of level k, and CatBoost numbers its leaves by
the outcomes, split k being bit k ("right when float32(x) > border"). Explanations are the
path-dependent TreeSHAP values, as SHAP's ``TreeExplainer`` computes them: Shapley values of
v(S), the tree's output when the features in S follow the row and the others split by the
training rows' leaf weights. (CatBoost's own ``ShapValues`` are computed another way and
differ slightly.) Every row that reaches the same leaf gets the same values, so they are
computed once per (tree, leaf) and gathered per row.
"""

from __future__ import annotations

import functools
import json
import math
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from prices_predictor.models.catboost import CATBOOST_KINDS

FOREST_ATTR = "_pp_forest"  # where a CatBoost model keeps its forest (not in CatBoost's state)
_BUILDING = threading.Lock()  # forests and their tables are made once, whoever asks first


@dataclass(eq=False)
class ObliviousForest:
    """Trees of one depth each: ``features``/``borders`` hold every tree's splits one after
    another (``depths`` of them per tree), ``values``/``weights`` every tree's leaves."""

    n_features_in_: int
    bias: float
    depths: np.ndarray  # (n_trees,) int64
    features: np.ndarray  # (sum(depths),) int64: the input column of each split
    borders: np.ndarray  # (sum(depths),) float32
    values: np.ndarray  # (sum(2**depths),) float64, scaled: a leaf's share of the prediction
    weights: np.ndarray  # (sum(2**depths),) float64: training weight reaching each leaf
    _shap: tuple[np.ndarray, np.ndarray, float] | None = field(default=None, repr=False)

    def trees(self) -> Any:
        """(features, borders, leaf values, leaf weights) per tree."""
        split_end = np.cumsum(self.depths)
        leaf_end = np.cumsum(1 << self.depths)
        for i, d in enumerate(self.depths):
            s, leaf = split_end[i] - d, leaf_end[i] - (1 << d)
            yield (
                self.features[s : s + d],
                self.borders[s : s + d],
                self.values[leaf : leaf + (1 << d)],
                self.weights[leaf : leaf + (1 << d)],
            )

    def leaf_index(self, X32: np.ndarray, features: np.ndarray, borders: np.ndarray) -> Any:
        index = np.zeros(X32.shape[0], dtype=np.int64)
        for k, (f, b) in enumerate(zip(features, borders, strict=True)):
            index |= (X32[:, f] > b).astype(np.int64) << k
        return index

    def predict(self, X: np.ndarray) -> np.ndarray:
        X32 = np.asarray(X, dtype=np.float32)
        out = np.full(X32.shape[0], self.bias)
        for features, borders, values, _ in self.trees():
            out += values[self.leaf_index(X32, features, borders)]
        return out

    def shap_values(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(base (n,), contributions (n, n_features)) with base + sum == predict(X)."""
        X32 = np.asarray(X, dtype=np.float32)
        slots, table, base = self._shap_tables()
        phi = np.zeros((X32.shape[0], self.n_features_in_))
        start = 0
        for t, (features, borders, _, _) in enumerate(self.trees()):
            leaves = self.leaf_index(X32, features, borders)
            cols = slots[t]
            for j in range(len(cols)):
                if cols[j] >= 0:
                    phi[:, cols[j]] += table[start + leaves, j]
            start += 1 << len(features)
        return np.full(X32.shape[0], base), phi

    def prepare(self) -> None:
        """Build the SHAP tables now rather than at the first explanation."""
        self._shap_tables()

    def _shap_tables(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Per tree its distinct split features (padded with -1) and, per leaf, their
        TreeSHAP values; and the base value (bias plus each tree's weighted mean)."""
        if self._shap is not None:
            return self._shap
        with _BUILDING:  # a request and the preload may ask at once: build once
            if self._shap is None:
                self._shap = self._build_tables()
        return self._shap

    def _build_tables(self) -> tuple[np.ndarray, np.ndarray, float]:
        width = int(self.depths.max(initial=0))
        slots = np.full((len(self.depths), width), -1, dtype=np.int64)
        tables, base = [], self.bias
        for t, (features, _, values, weights) in enumerate(self.trees()):
            cols, phi, mean = leaf_shap(features, values, weights)
            slots[t, : len(cols)] = cols
            padded = np.zeros((len(values), width))
            padded[:, : len(cols)] = phi
            tables.append(padded)
            base += mean
        table = np.concatenate(tables) if tables else np.zeros((0, width))
        return slots, table, float(base)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_shap"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._shap = None


def leaf_shap(
    features: np.ndarray, values: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """One oblivious tree: (distinct features, (2**depth, n distinct) SHAP values of a row
    in each leaf, the weighted mean leaf value).

    v(S, r), the tree's output for a row in leaf r when the features in S follow the row and
    the others split by cover, is folded from the deepest level up for every S and r at once:
    after folding levels >= k, ``f[S, x]`` holds the subtree below the level-k node named by
    the low k bits of x, for a row whose bits >= k are those of x. A level whose feature is
    in S keeps the row's branch, which is x itself; any other level mixes both children by
    their covers. A node no training row reached splits half and half (it weighs 0 in the
    mean, so the base is unchanged, and base + sum of the values is still the leaf's).
    """
    d = len(features)
    total = float(weights.sum())
    mean = float(values @ weights / total) if total > 0 else float(values.mean())
    if d == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((1, 0)), mean
    cols, slot = np.unique(features, return_inverse=True)
    m = len(cols)
    x = np.arange(1 << d)
    cover = [
        np.bincount(x & ((1 << k) - 1), weights=weights, minlength=1 << k) for k in range(d + 1)
    ]
    in_s = ((np.arange(1 << m)[:, None] >> slot[None, :]) & 1).astype(bool)  # (S, level)
    f = np.broadcast_to(values, (1 << m, 1 << d))
    for k, (node, left, right) in reversed(list(enumerate(_fold_indices(d), start=1))):
        parent = cover[k - 1][node]
        known = parent > 0
        share = np.divide(1.0, parent, out=np.zeros_like(parent), where=known)
        to_left = np.where(known, cover[k][left & ((1 << k) - 1)] * share, 0.5)
        to_right = np.where(known, cover[k][right & ((1 << k) - 1)] * share, 0.5)
        mixed = to_left * f[:, left] + to_right * f[:, right]
        f = np.where(in_s[:, k - 1, None], f, mixed)
    return cols, (shapley_weights(m) @ f).T, mean


@functools.cache
def _fold_indices(d: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per level k - 1 (k = 1..d): for every x, its level-(k-1) node and the two children
    (as x with bit k - 1 cleared and set)."""
    x = np.arange(1 << d)
    out = []
    for k in range(1, d + 1):
        node = x & ((1 << (k - 1)) - 1)
        left = node | ((x >> k) << k)
        out.append((node, left, left | (1 << (k - 1))))
    return out


@functools.cache
def shapley_weights(m: int) -> np.ndarray:
    """(m, 2**m) W with (W @ v)[j] = sum over S without j of |S|!(m-|S|-1)!/m! (v(S+j) - v(S))."""
    subsets = np.arange(1 << m)
    size = np.array([bin(s).count("1") for s in subsets])
    w = np.zeros((m, 1 << m))
    for j in range(m):
        has = (subsets >> j) & 1 == 1
        s_without = np.where(has, size - 1, size)
        c = np.array([math.factorial(s) * math.factorial(m - s - 1) for s in s_without])
        w[j] = np.where(has, c, -c) / math.factorial(m)
    return w


def from_catboost_json(model: dict[str, Any], n_features: int) -> ObliviousForest:
    """The forest of a CatBoost model saved as JSON (float splits, one output)."""
    flat = [f["flat_feature_index"] for f in model["features_info"].get("float_features", [])]
    scale, bias = model["scale_and_bias"]
    depths, features, borders, values, weights = [], [], [], [], []
    for tree in model["oblivious_trees"]:
        splits = tree.get("splits") or []  # null in a tree of depth 0
        if any(s["split_type"] != "FloatFeature" for s in splits):
            raise ValueError("catboost split on a categorical or combined feature")
        leaf_values = np.asarray(tree["leaf_values"], dtype=np.float64)
        if len(leaf_values) != 1 << len(splits):
            raise ValueError("catboost model with more than one output")
        depths.append(len(splits))
        features += [flat[s["float_feature_index"]] for s in splits]
        borders += [s["border"] for s in splits]
        values.append(scale * leaf_values)
        weights.append(np.asarray(tree["leaf_weights"], dtype=np.float64))
    return ObliviousForest(
        n_features_in_=n_features,
        bias=float(np.ravel(bias)[0]),
        depths=np.asarray(depths, dtype=np.int64),
        features=np.asarray(features, dtype=np.int64),
        borders=np.asarray(borders, dtype=np.float32),
        values=np.concatenate(values) if values else np.zeros(0),
        weights=np.concatenate(weights) if weights else np.zeros(0),
    )


def is_oblivious(est: Any) -> bool:
    """A CatBoost model (of any version of the strategy) or its forest."""
    return isinstance(est, ObliviousForest) or type(est).__name__ in CATBOOST_KINDS


def forest_of(est: Any) -> ObliviousForest:
    """The forest of a fitted CatBoost model (or the forest itself), made once per model."""
    if isinstance(est, ObliviousForest):
        return est
    cached = est.__dict__.get(FOREST_ATTR)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    with _BUILDING:
        cached = est.__dict__.get(FOREST_ATTR)
        if cached is None:
            # CatBoost's Python API has no in-memory JSON export
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "model.json"
                est.save_model(str(path), format="json")
                model = json.loads(path.read_text())
            cached = from_catboost_json(model, int(est.n_features_in_))
            est.__dict__[FOREST_ATTR] = cached
    return cached  # type: ignore[no-any-return]


def restore_catboost(state: dict[str, Any], forest: ObliviousForest) -> Any:
    """Unpickle a CatBoost member: the CatBoost model where catboost is installed (with its
    forest attached), else the forest, which gives the same prices and explanations."""
    try:
        # lazy: a training library: served models score and explain without it
        from prices_predictor.models.catboost_centered import CenteredCatBoost
    except ImportError:
        return forest
    est = CenteredCatBoost.__new__(CenteredCatBoost)
    est.__setstate__(state)
    est.__dict__[FOREST_ATTR] = forest
    return est
