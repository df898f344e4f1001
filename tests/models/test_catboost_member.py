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
    # the serving image has no CatBoost: the model prices all the same, and only what
    # needs the library itself (explanations) names the extra
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    rows.to_pickle(tmp_path / "rows.pkl")
    code = f"""
import sys, pickle, json
from prices_predictor.core.extras import MissingExtra
import pandas as pd
sys.modules["catboost"] = None  # as if not installed
model = pickle.loads(open({str(tmp_path / "model.pkl")!r}, "rb").read())
prices = model.predict_log(pd.read_pickle({str(tmp_path / "rows.pkl")!r}))
try:
    model.regressor
    error = ""
except MissingExtra as exc:
    error = str(exc)
print(json.dumps({{"log": prices.tolist(), "error": error}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    np.testing.assert_array_equal(np.array(out["log"]), served)
    assert "needs the 'catboost' extra" in out["error"]


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
