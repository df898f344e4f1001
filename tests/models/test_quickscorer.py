"""The QuickScorer block kernel: exact thresholds, wide trees, fallbacks, its log1p."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from prices_predictor.models.strategies import default_params
from prices_predictor.models.train import fit_price_model
from tests.conftest import AMES
from tests.tolerances import float32_trees, n_trees, reordered_sum


@pytest.fixture(scope="module")
def tiny(small_ames: pd.DataFrame) -> pd.DataFrame:
    return small_ames.head(300)


def _fit(tiny: pd.DataFrame, name: str, **params: Any) -> Any:
    p = default_params()
    p[name].update(params)
    return fit_price_model(tiny, name, p, AMES, folds=2, n_jobs=1).model


def test_exact_threshold_matches_the_float32_comparison() -> None:
    from prices_predictor.models.scoring.quickscorer import exact_threshold

    rng = np.random.default_rng(0)
    b32 = np.concatenate(
        [
            rng.normal(0, 1e3, 300).astype(np.float32),
            np.float32([0.0, -0.0, 1.0, -1.0, 0.5, 1e-30, 3.0e38, 2.5, 1499.5]),
        ]
    )
    # float32 thresholds (XGBoost) and float64 ones between float32 values (scikit-learn)
    ts = np.concatenate([b32.astype(np.float64), b32.astype(np.float64) * (1 + 1e-9)])
    for t in ts:
        u = exact_threshold(float(t), as32=True)
        lo = np.float32(t) if float(np.float32(t)) <= t else np.nextafter(np.float32(t), -np.inf)
        hi = np.nextafter(lo, np.float32(np.inf))
        mid = (float(lo) + float(hi)) / 2 if np.isfinite(hi) else float(lo)
        xs = [mid, np.nextafter(mid, -np.inf), np.nextafter(mid, np.inf), float(lo), float(hi)]
        xs += list(rng.normal(float(t), abs(float(t)) * 1e-6 + 1e-30, 20))
        for x in xs:
            assert (float(np.float32(x)) > t) == (x > u), (t, x, u)
    assert exact_threshold(2.5, as32=False) == 2.5  # LightGBM compares float64 as is


@pytest.mark.parametrize("n", [12, 64, 65, 300])
def test_64_leaf_trees_score_as_the_library_does(tiny: pd.DataFrame, n: int) -> None:
    from prices_predictor.models.scoring import _jit as jit
    from prices_predictor.models.scoring import quickscorer
    from prices_predictor.models.scoring.library import compile_regressor

    model = _fit(tiny, "xgboost", n_estimators=30, max_depth=6, min_child_weight=0.0)
    kernel = compile_regressor(model.regressor)
    tables = quickscorer.build(kernel.packed)
    assert tables is not None and tables.node_mask.dtype == np.uint64  # > 32 leaves
    assert kernel.block_kernel()[0] is jit.score_qs
    X = model.encoder.transform(tiny)[:n]
    want = model.regressor.predict(X)
    for M in (X, np.ascontiguousarray(X), X * 3 + 100):
        walked = np.empty(len(M))
        jit.score_blocks(M, 0, len(M), *kernel._args, walked)
        # both add the same leaves in the same order without fast-math (IEEE order kept):
        # the same bits on any CPU, whatever the vector width the lanes are lowered to
        np.testing.assert_array_equal(kernel(M), walked)
    np.testing.assert_allclose(kernel(X), want, rtol=0, atol=float32_trees(30, want))


def test_trees_that_are_one_leaf_score_their_leaf(tiny: pd.DataFrame) -> None:
    from prices_predictor.models.scoring.library import compile_regressor

    model = _fit(tiny, "xgboost", n_estimators=5, min_child_weight=1e9)
    kernel = compile_regressor(model.regressor)
    X = model.encoder.transform(tiny)
    want = model.regressor.predict(X)
    np.testing.assert_allclose(kernel(X), want, rtol=0, atol=float32_trees(5, want))


def test_forests_walk_their_trees(tiny: pd.DataFrame) -> None:
    from prices_predictor.models.scoring import _jit as jit
    from prices_predictor.models.scoring import quickscorer
    from prices_predictor.models.scoring.library import compile_regressor

    model = _fit(tiny, "random_forest", n_estimators=5)
    kernel = compile_regressor(model.regressor)
    assert quickscorer.build(kernel.packed) is None  # deep trees: thousands of leaves
    assert kernel.block_kernel()[0] is jit.score_blocks
    X = model.encoder.transform(tiny)
    want = model.regressor.predict(X)
    # scikit-learn averages float64 tree outputs (in thread order); the kernel adds the
    # leaves pre-divided by the tree count, in tree order: a reordered sum of positive terms
    tol = reordered_sum(n_trees(model.regressor) + 1, np.abs(want))
    np.testing.assert_allclose(kernel(X), want, rtol=0, atol=tol)


def test_log1p_nonneg_is_within_two_ulp() -> None:
    from prices_predictor.models.scoring._jit import log1p_nonneg

    rng = np.random.default_rng(1)
    v = np.concatenate(
        [
            [0.0, 5e-324, 1e-300, 1e-17, 1e-9, 0.5, 1.0, np.sqrt(2) - 1, 2.0, 1e300],
            rng.uniform(0, 10, 2000),
            np.exp(rng.uniform(-40, 40, 2000)),
            np.arange(0.0, 5000.0),
        ]
    )
    got = np.array([log1p_nonneg(float(x)) for x in v])
    want = np.log1p(v)
    assert np.all(np.abs(got - want) <= 2 * np.spacing(want))
