"""The blend's weights follow the data: chosen from the members' out-of-fold predictions when
that is clearly better than the defaults (tuned on Ames), and trees see enough columns."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prices_predictor.models.base import MIN_TREE_COLUMNS, FeatureContext
from prices_predictor.models.strategies import default_params, get_strategy
from prices_predictor.models.train import fit_price_model
from prices_predictor.models.weights import choose_weights, rmse, simplex_grid
from tests import datasets
from tests.conftest import AMES, base_env, run_cli
from tests.tolerances import float32_trees, n_trees

DEFAULT_WEIGHTS = {"linear": 0.4, "xgboost": 0.35, "lightgbm": 0.25}


def test_the_grid_is_every_weighting_in_twentieths() -> None:
    grid = simplex_grid(3)
    assert grid.shape == (3, 231)  # compositions of 20 into 3 parts: C(22, 2)
    assert np.allclose(grid.sum(axis=0), 1.0, rtol=0, atol=1e-12) and (grid >= 0).all()
    assert len({tuple(c) for c in np.round(grid.T * 20).astype(int)}) == 231


def test_the_weights_follow_the_members_errors() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(12.0, 0.4, 2000)
    good, poor, noisy = (y + rng.normal(0, sd, y.size) for sd in (0.10, 0.25, 0.40))
    members = np.column_stack([poor, good, noisy])
    choice = choose_weights(members, y, folds=5, seed=42)
    # independent errors: the weight of each member goes as 1 / its variance (~0.13/0.83/0.04)
    assert choice.weights[1] >= 0.7 and choice.weights[0] <= 0.25 and choice.weights[2] <= 0.1
    assert choice.weights.sum() == pytest.approx(1.0, rel=1e-12)
    fixed = members @ np.array([0.4, 0.35, 0.25])
    assert rmse(y, choice.oof) < 0.8 * rmse(y, fixed)
    # cross-fitted: every row's blend uses weights chosen without its fold, so it is no
    # better than the weights chosen on all rows (those are optimal on them)
    assert rmse(y, choice.oof) >= rmse(y, members @ choice.weights)


def test_a_tree_sees_at_least_five_columns() -> None:
    few = FeatureContext([f"c{i}" for i in range(13)])
    many = FeatureContext([f"c{i}" for i in range(230)])
    assert few.column_share(0.18) == pytest.approx(MIN_TREE_COLUMNS / 13, rel=1e-12)
    assert many.column_share(0.18) == 0.18  # the tuned share where it leaves enough
    lgbm = get_strategy("lightgbm").build({"colsample_bytree": 0.18}, few)
    xgb = get_strategy("xgboost").build({"colsample_bytree": 0.3}, few)
    assert lgbm.get_params()["colsample_bytree"] * 13 >= MIN_TREE_COLUMNS
    assert xgb.get_params()["colsample_bytree"] * 13 >= MIN_TREE_COLUMNS


def test_a_blend_without_the_ridge_is_served_by_the_kernel(small_ames: pd.DataFrame) -> None:
    # re-chosen weights may leave a member out (weight 0): the blend is then trees only
    params = default_params()
    params["blend"] = {"choose_weights": False, "weights": {"xgboost": 0.5, "lightgbm": 0.5}}
    for m in ("xgboost", "lightgbm"):
        params[m].update(n_estimators=60, learning_rate=0.2)
    rows = small_ames.head(300)
    model = fit_price_model(rows, "blend", params, AMES, folds=2, n_jobs=1).model
    assert [name for name, _, _ in model.regressor.members] == ["xgboost", "lightgbm"]
    library = model.regressor.predict(model.encoder.transform(rows))
    served = model.predict_log(rows)
    assert type(model._scorer()).__name__ == "Kernel"  # not the libraries' predict
    tol = float32_trees(n_trees(model.regressor), library)
    np.testing.assert_allclose(served, library, rtol=0, atol=tol)


def _runs(env: dict[str, str]) -> list[dict[str, object]]:
    """Each registered version's parameters and metrics, as MLflow holds them."""
    code = f"""
import json, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri("sqlite:///{env["PP_HOME"]}/mlflow.db")
c = MlflowClient()
out = []
for mv in sorted(c.search_model_versions("name='prices_predictor'"), key=lambda v: int(v.version)):
    run = c.get_run(mv.run_id)
    out.append({{"params": run.data.params, "metrics": run.data.metrics}})
print(json.dumps(out))
"""
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.long  # two trainings through the CLI (about a minute): in make test-slow
def test_a_file_far_from_linear_gets_its_own_weights(tmp_path: Path) -> None:
    data = datasets.to_csv("boston", tmp_path)
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps({"blend": {"choose_weights": False}}))
    env = base_env(tmp_path / "home", PP_CV_FOLDS="5")
    for k in ("PP_GATE_MAX_RMSE", "PP_GATE_MIN_R2"):
        env.pop(k)
    args = ["train", "--data", str(data), "--target", "medv", "--no-deploy"]
    run_cli(args, env, check=True)  # version 1: weights chosen for the data
    run_cli(args, {**env, "PP_PARAMS_FILE": str(fixed)}, check=True)  # version 2: defaults
    chosen, default = _runs(env)
    assert json.loads(str(default["params"]["weights"])) == DEFAULT_WEIGHTS  # type: ignore[index]
    weights = json.loads(str(chosen["params"]["weights"]))  # type: ignore[index]
    assert sum(weights.values()) == pytest.approx(1.0, rel=1e-9)
    # the Ridge is the weakest member on these tracts: it loses most of its 0.4, and the
    # candidate CatBoost, the strongest alone there, comes in
    assert weights.get("linear", 0.0) <= 0.25
    assert weights.get("catboost", 0.0) >= 0.25
    # the reported CV is cross-fitted, and it is clearly better than the defaults'
    cv = {
        k: r["metrics"]["cv_rmse_mean"]  # type: ignore[index]
        for k, r in (("chosen", chosen), ("default", default))
    }
    assert cv["chosen"] < 0.99 * cv["default"]
