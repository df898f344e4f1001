"""Every strategy fits and predicts on a tiny frame; the registry and parameters."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prices_predictor.core.errors import UserError
from prices_predictor.data.split import log_target
from prices_predictor.models.strategies import STRATEGIES, default_params, get_strategy
from prices_predictor.models.train import fit_price_model
from tests.conftest import AMES
from tests.tolerances import float32_trees, linear_terms, n_trees, reordered_sum

TINY = {
    "xgboost": {"n_estimators": 60, "learning_rate": 0.2},
    "lightgbm": {"n_estimators": 60, "learning_rate": 0.2},
    "random_forest": {"n_estimators": 10},
    "catboost": {"iterations": 60, "learning_rate": 0.3},
}


@pytest.fixture(scope="module")
def tiny(small_ames: pd.DataFrame) -> pd.DataFrame:
    return small_ames.head(300)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_strategy_fits_and_beats_the_mean(name: str, tiny: pd.DataFrame) -> None:
    params = default_params()
    for k, v in TINY.items():
        params[k].update(v)
    train, test = tiny.iloc[:240], tiny.iloc[240:]
    result = fit_price_model(train, name, params, AMES, folds=3, n_jobs=1)
    pred = result.model.predict_log(test)
    y = log_target(test, "SalePrice")
    rmse = float(np.sqrt(np.mean((pred - y) ** 2)))
    baseline = float(np.sqrt(np.mean((y - log_target(train, "SalePrice").mean()) ** 2)))
    assert rmse < 0.6 * baseline
    assert result.oof_pred.shape == (len(train),)
    assert 0 < result.model.interval_halfwidth < 1
    assert result.cv_rmse_mean > 0


def test_unknown_strategy_names_the_choices() -> None:
    with pytest.raises(UserError, match="choose one of: linear"):
        get_strategy("gpt")


def test_params_file_overrides_defaults(tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"xgboost": {"n_estimators": 7}}))
    p = default_params(f)
    assert p["xgboost"]["n_estimators"] == 7
    assert p["xgboost"]["max_depth"] == default_params()["xgboost"]["max_depth"]


def test_bad_params_file_is_a_user_error(tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text("{nope")
    with pytest.raises(UserError, match="cannot read parameters"):
        default_params(f)


def test_blend_is_weighted_mean_of_members(tiny: pd.DataFrame) -> None:
    params = default_params()
    for k, v in TINY.items():
        params[k].update(v)
    result = fit_price_model(tiny, "blend", params, AMES, folds=2, n_jobs=1)
    blend = result.model.regressor
    X = result.model.encoder.transform(tiny.head(5))
    members = np.column_stack([est.predict(X) for _, est, _ in blend.members])
    # the same products summed the same way (default rtol 1e-7 covers a BLAS reordering of
    # three float64 terms, ~1e-16 relative)
    np.testing.assert_allclose(blend.predict(X), members @ blend.weights)
    assert blend.weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["linear", "xgboost", "lightgbm", "blend", "random_forest"])
def test_compiled_predict_equals_library_predict(name: str, tiny: pd.DataFrame) -> None:
    from prices_predictor.models.scoring.kernel import BLOCK_ROWS, PARALLEL_ROWS, Kernel
    from prices_predictor.models.scoring.library import compile_regressor

    params = default_params()
    for k, v in TINY.items():
        params[k].update(v)
    model = fit_price_model(tiny, name, params, AMES, folds=2, n_jobs=1).model
    X = model.encoder.transform(tiny)
    big = np.repeat(X, PARALLEL_ROWS // len(X) + 1, axis=0)  # the multi-threaded branch too
    fast = compile_regressor(model.regressor)
    assert isinstance(fast, Kernel)
    outside = np.vstack([X * 3 + 100, -X - 5])  # beyond the training range both ways
    # the kernel sums the trees in float64 where XGBoost and the forest sum float32
    for M in (X[:1], X[: BLOCK_ROWS + 3], X, np.asfortranarray(X), big, outside):
        want = model.regressor.predict(M)
        tol = float32_trees(n_trees(model.regressor), want)
        np.testing.assert_allclose(fast(M), want, rtol=0, atol=tol)


def test_kernel_rejects_a_wrong_width(tiny: pd.DataFrame) -> None:
    from prices_predictor.models.scoring.library import compile_regressor

    model = fit_price_model(tiny, "linear", default_params(), AMES, folds=2, n_jobs=1).model
    X = model.encoder.transform(tiny.head(2))
    with pytest.raises(ValueError, match="expected"):
        compile_regressor(model.regressor)(X[:, :-1])


def test_unsupported_estimators_use_their_library(tiny: pd.DataFrame) -> None:
    from sklearn.ensemble import ExtraTreesRegressor

    from prices_predictor.models.scoring.kernel import Kernel
    from prices_predictor.models.scoring.library import compile_regressor

    model = fit_price_model(tiny, "linear", default_params(), AMES, folds=2, n_jobs=1).model
    X = model.encoder.transform(tiny)
    trees = ExtraTreesRegressor(n_estimators=10, random_state=0).fit(X, np.log(tiny["SalePrice"]))
    fast = compile_regressor(trees)
    assert not isinstance(fast, Kernel)
    np.testing.assert_allclose(fast(X), trees.predict(X), rtol=1e-12)


def test_kernel_python_source_agrees_with_its_compiled_form(tiny: pd.DataFrame) -> None:
    from prices_predictor.models.scoring import _jit as jit
    from prices_predictor.models.scoring.library import compile_regressor

    params = default_params()
    for k, v in TINY.items():
        params[k].update(v)
    model = fit_price_model(tiny, "blend", params, AMES, folds=2, n_jobs=1).model
    X = model.encoder.transform(tiny.head(40))
    kernel = compile_regressor(model.regressor)
    args = kernel._args  # type: ignore[attr-defined]
    want = model.regressor.predict(X)
    X = np.vstack([X, X * 3 + 100])  # past the linear part's training range too
    want = model.regressor.predict(X)
    for func, extra in ((jit.score_rows, (kernel._groups,)), (jit.score_blocks, ())):  # type: ignore[attr-defined]
        out = np.empty(len(X))
        func.py_func(X, 0, len(X), *args, out, *extra)
        np.testing.assert_allclose(out, want, atol=float32_trees(n_trees(model.regressor), want))
    n, inf = X.shape[1], np.full(X.shape[1], np.inf)
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    plain = (np.ones(n), np.zeros(n, bool))
    assert jit._linear.py_func(X[0], 1.0, *plain, -inf, inf, *none) == (
        pytest.approx(1.0 + X[0].sum())
    )
    capped = jit._linear.py_func(X[0] + 1, 0.0, *plain, -inf, X[0], *none)
    assert capped == pytest.approx(X[0].sum())
    # a product term: 2 * t(x_3) * t(x_5), on the clipped values
    pair = (np.array([3]), np.array([5]), np.array([2.0]))
    x = X[0] + 1
    with_pair = jit._linear.py_func(x, 0.0, np.zeros(n), plain[1], -inf, X[0], *pair)
    assert with_pair == pytest.approx(2.0 * X[0, 3] * X[0, 5])


def test_warm_cache_fills_the_numba_cache(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PP_KERNEL_CACHE_DIR"] = str(tmp_path / "nc")
    subprocess.run(
        [sys.executable, "-m", "prices_predictor.models.scoring.kernel"],
        env=env,
        check=True,
        timeout=120,
    )
    cached = {p.name.split(".")[1].split("-")[0] for p in (tmp_path / "nc").rglob("*.nbi")}
    assert {"score_rows", "score_blocks", "score_qs"} <= cached


def test_ridge_does_not_extrapolate_past_the_training_range(tiny: pd.DataFrame) -> None:
    from prices_predictor.models.scoring.library import library_predict

    model = fit_price_model(tiny, "linear", default_params(), AMES, folds=2, n_jobs=1).model
    biggest = float(tiny["Gr Liv Area"].max())
    house = tiny.drop(columns=["SalePrice"]).iloc[[0]].reset_index(drop=True)
    sizes = [biggest / 2, biggest, biggest * 10, biggest * 100]
    rows = pd.concat([house.assign(**{"Gr Liv Area": a}) for a in sizes], ignore_index=True)
    price = model.predict_log(rows)
    assert price[0] < price[1] <= price[2]  # inside the range, area still counts
    # past the range of every column it feeds (area, total SF, quality x area): flat. The two
    # rows clip to the same inputs, so the same operations give the same bits.
    assert price[2] == price[3]
    X = model.encoder.transform(rows)
    # the library path standardises, the kernel folds the scaler into its coefficients
    tol = reordered_sum(X.shape[1] + 1, linear_terms(model.regressor, X))
    np.testing.assert_allclose(library_predict(model.regressor)(X), price, rtol=0, atol=tol)
    params = {**default_params(), "linear": {"clip": False}}
    unclipped = fit_price_model(tiny, "linear", params, AMES, folds=2, n_jobs=1).model
    assert unclipped.predict_log(rows)[3] > unclipped.predict_log(rows)[2] + 0.1  # what clip stops
