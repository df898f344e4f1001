"""CatBoost as a candidate member of the blend: monotone where the spec promises, at the
target's level, served by the scoring kernel, and brought in only by a choice of weights."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prices_predictor.data.split import log_target
from prices_predictor.models.explain import explain
from prices_predictor.models.oblivious import ObliviousForest, forest_of
from prices_predictor.models.strategies import default_params
from prices_predictor.models.train import fit_price_model
from tests.conftest import AMES
from tests.tolerances import float32_trees, n_trees

pytestmark = pytest.mark.slow


def _params(**blend: object) -> dict[str, dict[str, object]]:
    params = default_params()
    params["catboost"].update(iterations=150, learning_rate=0.1)
    for m in ("xgboost", "lightgbm"):
        params[m].update(n_estimators=60, learning_rate=0.2)
    params["blend"] = {**params["blend"], **blend}
    return params


@pytest.fixture(scope="module")
def catboost_model(small_ames: pd.DataFrame) -> object:
    rows = small_ames.head(600)
    return fit_price_model(rows, "catboost", _params(), AMES, folds=2, n_jobs=1).model


def test_catboost_keeps_the_specs_monotone_promise(
    catboost_model: object, small_ames: pd.DataFrame
) -> None:
    model = catboost_model
    assert model.regressor.get_params()["monotone_constraints"]  # type: ignore[attr-defined]
    for _, row in small_ames.tail(20).iterrows():
        rows = [{**row.to_dict(), "Gr Liv Area": float(v)} for v in np.linspace(500, 4000, 15)]
        prices = model.predict_price(rows)  # type: ignore[attr-defined]
        assert (np.diff(prices) >= -1e-9 * prices[:-1]).all(), prices


def test_monotone_catboost_is_fitted_at_the_targets_level(
    catboost_model: object, small_ames: pd.DataFrame
) -> None:
    # CatBoost's monotone mode starts from 0: uncentred, its log prices end ~0.1 too low
    unseen = small_ames.tail(300)
    residual = catboost_model.predict_log(unseen) - log_target(unseen, "SalePrice", "log1p")  # type: ignore[attr-defined]
    assert abs(float(np.mean(residual))) < 0.03


def test_a_blend_with_catboost_is_served_by_the_kernel_without_catboost(
    small_ames: pd.DataFrame, tmp_path: Path
) -> None:
    params = _params(choose_weights=False, weights={"linear": 0.4, "catboost": 0.6})
    rows = small_ames.head(300)
    model = fit_price_model(rows, "blend", params, AMES, folds=2, n_jobs=1).model
    library = model.regressor.predict(model.encoder.transform(rows))
    served = model.predict_log(rows)
    assert type(model._scorer()).__name__ == "Kernel"  # not the libraries' predict
    np.testing.assert_allclose(
        served, library, rtol=0, atol=float32_trees(n_trees(model.regressor), library)
    )
    # the serving image has no CatBoost: there the member unpickles as its trees' arrays,
    # which price and explain the same rows identically
    sample = rows.head(25)
    here = explain(model, sample)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    rows.to_pickle(tmp_path / "rows.pkl")
    code = f"""
import sys, pickle, json
import pandas as pd
sys.modules["catboost"] = None  # as if not installed
from prices_predictor.models.explain import explain
model = pickle.loads(open({str(tmp_path / "model.pkl")!r}, "rb").read())
rows = pd.read_pickle({str(tmp_path / "rows.pkl")!r})
prices = model.predict_log(rows)
exp = explain(model, rows.head(25))
members = [type(est).__name__ for _, est, _ in model.regressor.members]
print(json.dumps({{"log": prices.tolist(), "base": exp.base.tolist(),
                  "values": exp.values.tolist(), "members": members}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    np.testing.assert_array_equal(np.array(out["log"]), served)
    assert out["members"][1] == "ObliviousForest"
    scale = float(np.abs(here.values).max())
    np.testing.assert_allclose(np.array(out["base"]), here.base, rtol=1e-12)
    np.testing.assert_allclose(np.array(out["values"]), here.values, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(
        here.base + here.values.sum(axis=1), served[:25], rtol=0, atol=1e-9 * scale
    )


def test_catboost_explanations_are_treeshap_without_the_library(
    catboost_model: object, small_ames: pd.DataFrame
) -> None:
    """The library-free explanation of CatBoost's trees equals SHAP's TreeSHAP on the same
    trees and adds up to CatBoost's own prediction. (CatBoost's ShapValues are computed
    otherwise and differ slightly on monotone models, its base included.)"""
    import shap

    est = catboost_model.regressor  # type: ignore[attr-defined]
    forest = forest_of(est)
    X = catboost_model.encoder.transform(small_ames.tail(40))  # type: ignore[attr-defined]
    np.testing.assert_allclose(forest.predict(X), est.predict(X), rtol=1e-12)
    base, phi = forest.shap_values(X)
    reference = shap.TreeExplainer(_as_shap_trees(forest))
    expected = reference.shap_values(X.astype(np.float32).astype(np.float64))
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(phi, expected, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(base, float(np.ravel(reference.expected_value)[0]), rtol=1e-12)
    np.testing.assert_allclose(base + phi.sum(axis=1), est.predict(X), rtol=0, atol=1e-9 * scale)


def _as_shap_trees(forest: ObliviousForest) -> dict[str, object]:
    """SHAP's generic tree format: each oblivious tree as a full binary tree in heap order
    (level k tests split k; CatBoost's leaf index has split k as bit k), covers from the
    leaf weights. SHAP goes left when x <= threshold: the border, on float32 inputs. SHAP
    refuses leaves no training row reached: they get a weight too small to change a value
    beyond 1e-12 (a node whose leaves are all empty then splits half and half, as ours)."""
    trees = []
    for features, borders, values, weights in forest.trees():
        d = len(features)
        inner, n = (1 << d) - 1, (1 << (d + 1)) - 1
        left, right = np.full(n, -1), np.full(n, -1)
        feature, threshold = np.full(n, -2), np.zeros(n)
        value, cover = np.zeros(n), np.zeros(n)
        for i in range(inner):
            level = (i + 1).bit_length() - 1
            left[i], right[i] = 2 * i + 1, 2 * i + 2
            feature[i], threshold[i] = features[level], borders[level]
        for path in range(1 << d):  # path bits: level 0 is the most significant
            leaf = sum(((path >> (d - 1 - k)) & 1) << k for k in range(d))
            value[inner + path] = values[leaf]
            cover[inner + path] = weights[leaf] + 1e-13 * weights.sum()
        for i in reversed(range(inner)):
            cover[i] = cover[left[i]] + cover[right[i]]
        trees.append(
            {
                "children_left": left,
                "children_right": right,
                "children_default": left,
                "features": feature,
                "thresholds": threshold,
                "values": value[:, None],
                "node_sample_weight": cover,
            }
        )
    return {
        "trees": trees,
        "base_offset": forest.bias,
        "tree_output": "raw_value",
        "objective": "squared_error",
        "input_dtype": np.float64,
        "internal_dtype": np.float64,
    }


def test_a_candidate_enters_the_blend_only_through_chosen_weights(
    small_ames: pd.DataFrame,
) -> None:
    # a Ridge alone leaves the price's non-linear part: a tree model blended in is worth more
    # than the 1% the weights must gain
    rows = small_ames.head(600)
    lone = {"weights": {"linear": 1.0}, "candidates": ["catboost"]}
    chosen = fit_price_model(rows, "blend", _params(**lone), AMES, folds=3, n_jobs=1)
    fixed = fit_price_model(
        rows, "blend", _params(**lone, choose_weights=False), AMES, folds=3, n_jobs=1
    )
    members = [name for name, _, _ in chosen.model.regressor.members]
    assert members[0] == "linear" and "catboost" in members
    assert [name for name, _, _ in fixed.model.regressor.members] == ["linear"]
    assert chosen.cv_rmse_mean < 0.99 * fixed.cv_rmse_mean
