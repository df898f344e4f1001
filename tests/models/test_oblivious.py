"""TreeSHAP of one oblivious tree, against the definition: Shapley values of v(S), the tree's
output when the features in S follow the row and the others split by the leaves' weights,
summed over every subset by brute force. Trees with a feature on two levels and leaves no
training row reached included."""

from __future__ import annotations

import itertools
import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from prices_predictor.models import oblivious
from prices_predictor.models.oblivious import ObliviousForest, leaf_shap


def _v(
    subset: set[int], row_leaf: int, features: np.ndarray, values: np.ndarray, w: np.ndarray
) -> float:
    d = len(features)

    def cover(level: int, leaf: int) -> float:  # weight under the level-`level` node of `leaf`
        mask = (1 << level) - 1
        return float(sum(w[m] for m in range(1 << d) if m & mask == leaf & mask))

    total = 0.0
    for leaf in range(1 << d):
        p = 1.0
        for k in range(d):
            if features[k] in subset:
                p *= float((leaf >> k) & 1 == (row_leaf >> k) & 1)
            else:
                parent = cover(k, leaf)
                p *= cover(k + 1, leaf) / parent if parent > 0 else 0.5
        total += values[leaf] * p
    return total


def _shapley(
    row_leaf: int, features: np.ndarray, values: np.ndarray, w: np.ndarray
) -> dict[int, float]:
    cols = sorted(set(features.tolist()))
    m, out = len(cols), {}
    for j in cols:
        rest = [c for c in cols if c != j]
        out[j] = sum(
            math.factorial(r)
            * math.factorial(m - r - 1)
            / math.factorial(m)
            * (
                _v({*s, j}, row_leaf, features, values, w)
                - _v(set(s), row_leaf, features, values, w)
            )
            for r in range(m)
            for s in itertools.combinations(rest, r)
        )
    return out


@pytest.mark.parametrize("seed", range(12))
def test_leaf_values_are_the_shapley_values_of_the_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 5))
    features = rng.integers(0, 3, d)  # few features: repeats are common
    values = rng.normal(size=1 << d)
    weights = rng.integers(0, 6, 1 << d).astype(float) * (rng.random(1 << d) > 0.3)
    weights[int(rng.integers(0, 1 << d))] += 1.0  # at least one row was seen
    cols, table, mean = leaf_shap(features, values, weights)
    assert mean == pytest.approx(float(values @ weights / weights.sum()), rel=1e-12)
    for leaf in range(1 << d):
        expected = _shapley(leaf, features, values, weights)
        got = dict(zip(cols.tolist(), table[leaf], strict=True))
        assert got == pytest.approx(expected, abs=1e-12)
        # additive: the base plus the values is the leaf's own value, also in an empty leaf
        assert mean + table[leaf].sum() == pytest.approx(values[leaf], abs=1e-12)


def _forest(rng: np.random.Generator) -> ObliviousForest:
    trees = [(np.array([0, 2]), 4), (np.array([1, 1, 0]), 8), (np.array([], dtype=np.int64), 1)]
    return ObliviousForest(
        n_features_in_=3,
        bias=12.0,
        depths=np.array([len(f) for f, _ in trees]),
        features=np.concatenate([f for f, _ in trees]),
        borders=rng.normal(size=5).astype(np.float32),
        values=rng.normal(size=13),
        weights=rng.integers(1, 9, 13).astype(float),
    )


def test_a_forest_prices_and_explains_rows_by_their_leaves() -> None:
    rng = np.random.default_rng(0)
    forest = _forest(rng)
    X = rng.normal(size=(200, 3))
    expected = np.full(200, 12.0)
    for features, borders, values, _ in forest.trees():
        leaf = sum(
            (X[:, f].astype(np.float32) > b).astype(int) << k
            for k, (f, b) in enumerate(zip(features, borders, strict=True))
        )
        expected += values[leaf]
    np.testing.assert_allclose(forest.predict(X), expected, rtol=1e-15)
    base, phi = forest.shap_values(X)
    np.testing.assert_allclose(base + phi.sum(axis=1), expected, rtol=1e-13)
    assert phi.shape == (200, 3)


def test_tables_asked_for_at_once_are_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # a server's preload and a first explanation can ask together
    calls: list[int] = []

    def slow_leaf_shap(*args: Any) -> Any:
        calls.append(1)
        time.sleep(0.05)
        return leaf_shap(*args)

    monkeypatch.setattr(oblivious, "leaf_shap", slow_leaf_shap)
    rng = np.random.default_rng(1)
    forest, X = _forest(rng), rng.normal(size=(20, 3))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: forest.shap_values(X), range(4)))
    assert len(calls) == 3  # one per tree, not per caller
    for base, phi in results[1:]:
        np.testing.assert_array_equal(phi, results[0][1])
        np.testing.assert_array_equal(base, results[0][0])
