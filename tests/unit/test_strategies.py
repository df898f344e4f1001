"""Every strategy fits and predicts on a tiny frame; the registry and parameters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prices_predictor.data.split import log_target
from prices_predictor.errors import UserError
from prices_predictor.models.registry import STRATEGIES, default_params, get_strategy
from prices_predictor.models.train import fit_price_model

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
    result = fit_price_model(train, name, params, folds=3, n_jobs=1)
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
    result = fit_price_model(tiny, "blend", params, folds=2, n_jobs=1)
    blend = result.model.regressor
    X = result.model.encoder.transform(tiny.head(5))
    members = np.column_stack([est.predict(X) for _, est, _ in blend.members])
    np.testing.assert_allclose(blend.predict(X), members @ blend.weights)
    assert blend.weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["linear", "xgboost", "lightgbm", "blend", "random_forest"])
def test_compiled_predict_equals_sklearn_predict(name: str, tiny: pd.DataFrame) -> None:
    from prices_predictor.models.fast import PARALLEL_ROWS, compile_regressor

    params = default_params()
    for k, v in TINY.items():
        params[k].update(v)
    model = fit_price_model(tiny, name, params, folds=2, n_jobs=1).model
    X = model.encoder.transform(tiny)
    big = np.repeat(X, PARALLEL_ROWS // len(X) + 1, axis=0)  # the multi-threaded branch too
    fast = compile_regressor(model.regressor)
    for M in (X[:1], X, big):
        np.testing.assert_allclose(fast(M), model.regressor.predict(M), rtol=1e-9, atol=1e-9)
