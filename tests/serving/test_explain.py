"""Explanations: additivity, folding, the endpoint, the PNG and the CLI table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from prices_predictor.features.location import LocationSpec
from prices_predictor.models.explain import explain, fold_matrix
from prices_predictor.models.strategies import default_params
from prices_predictor.models.train import fit_price_model
from prices_predictor.tracking.bundle import load_bundle
from tests.conftest import AMES, FAST_PARAMS, base_env, run_cli
from tests.tolerances import float32_trees, linear_terms, n_trees, reordered_sum


@pytest.mark.parametrize(
    "name",
    ["linear", "xgboost", "lightgbm", "random_forest", "catboost", "blend", "blend+catboost"],
)
def test_base_plus_contributions_is_the_prediction(name: str, small_ames: pd.DataFrame) -> None:
    params = default_params()
    for k, v in FAST_PARAMS.items():
        params[k].update(v)
    params["random_forest"]["n_estimators"] = 10
    if name == "blend+catboost":  # as weights chosen for the data may make it
        name = "blend"
        weights = {"linear": 0.3, "lightgbm": 0.2, "catboost": 0.5}
        params["blend"] = {"choose_weights": False, "weights": weights}
    model = fit_price_model(small_ames.head(400), name, params, AMES, folds=2, n_jobs=1).model
    rows = small_ames.tail(30)
    exp = explain(model, rows)
    want = model.predict_log(rows)
    # the trees' contributions come from the libraries in float32: one sum over the trees
    # per encoded column, then over the columns
    tol = float32_trees(n_trees(model.regressor) + model.encoder.n_features, want)
    np.testing.assert_allclose(exp.base + exp.values.sum(axis=1), want, rtol=0, atol=tol)
    assert "Neighborhood" in exp.sources and not any("=" in s for s in exp.sources)


def test_the_location_effect_is_its_own_contribution(small_ames: pd.DataFrame) -> None:
    spec = LocationSpec(divisor=10_000, prior=2.0)  # coarse blocks: most rows have one
    train = small_ames.head(400)
    model = fit_price_model(train, "linear", default_params(), AMES, folds=2, location=spec).model
    rows = small_ames.tail(30)
    exp = explain(model, rows)
    assert exp.sources[-1] == "PID" and model.location is not None
    np.testing.assert_allclose(exp.values[:, -1], model.location.effect(rows))
    assert np.count_nonzero(exp.values[:, -1]) > 10
    want = model.predict_log(rows)
    X = model.encoder.transform(rows)
    tol = reordered_sum(X.shape[1] + 2, linear_terms(model.regressor, X) + np.abs(want))
    np.testing.assert_allclose(exp.base + exp.values.sum(axis=1), want, rtol=0, atol=tol)


def test_fold_matrix_sums_one_hot_columns() -> None:
    m, sources = fold_matrix(["Gr Liv Area", "Neighborhood=A", "Neighborhood=B", "total_sf"])
    assert sources == ["Gr Liv Area", "Neighborhood", "total_sf"]
    assert m.sum(axis=0).tolist() == [1, 2, 1]


def test_explain_endpoint_adds_up(client: TestClient, bundle_dir: Path) -> None:
    house = {
        "gr_liv_area": 2100,
        "overall_qual": 8,
        "neighborhood": "NridgHt",
        "year_built": 2006,
        "garage_cars": 3,
    }
    r = client.post("/v1/explain?top=5", json=house)
    assert r.status_code == 200, r.text
    body = r.json()
    items = body["contributions"]
    assert len(items) == 6 and items[-1]["feature"] == "all other features"
    effects = [abs(c["log_effect"]) for c in items[:-1]]
    assert effects == sorted(effects, reverse=True)
    # each log effect is rounded to 1e-6 and each dollar figure to the cent in the answer
    total_log = body["base_value_log"] + sum(c["log_effect"] for c in items)
    assert total_log == pytest.approx(body["prediction_log"], abs=len(items) * 5e-7 + 1e-12)
    dollars = body["base_price"] + sum(c["dollar_effect"] for c in items)
    assert dollars == pytest.approx(body["price"], abs=(len(items) + 2) * 0.005 + 1e-9)
    # /v1/predict scores with the kernel (float64 sums); the explanation adds the XGBoost
    # member's float32 contributions (150 trees over ~300 encoded columns)
    predicted = client.post("/v1/predict", json=house).json()["price"]
    assert body["price"] == pytest.approx(predicted, rel=float32_trees(150 + 300, 13.0))
    gla = next(c for c in items if c["feature"] in ("Gr Liv Area", "qual_x_area", "total_sf"))
    assert gla["log_effect"] != 0
    assert body["warnings"] == []
    huge = client.post("/v1/explain", json={**house, "gr_liv_area": 20_000}).json()
    assert "gr_liv_area=20000 is outside the training range" in huge["warnings"][0]


def test_explain_png(client: TestClient) -> None:
    r = client.post("/v1/explain?format=png", json={"gr_liv_area": 1500})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_model_card_has_importance(client: TestClient) -> None:
    card = client.get("/v1/model").json()
    top = card["importance"][0]
    assert top["mean_abs_shap"] > 0 and top["pct_effect"] > 0
    assert "CollgCr" in card["categories"]["Neighborhood"]


def test_cli_explain_prints_the_table(bundle_dir: Path, tmp_path: Path) -> None:
    row = tmp_path / "row.json"
    row.write_text(json.dumps({"Gr Liv Area": 1800, "overall_qual": 7}))
    env = base_env(tmp_path / "pp", PP_MODEL_URI=str(bundle_dir))
    proc = run_cli(["explain", "--data", str(row), "--top", "4"], env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "why this price" in proc.stdout and "all other features" in proc.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"overall_qual": 12}))
    proc = run_cli(["explain", "--data", str(bad)], env, timeout=120)
    assert proc.returncode == 2 and "overall_qual" in proc.stderr and "Traceback" not in proc.stderr


def test_bundle_model_explains_fast_enough_to_serve(
    bundle_dir: Path, small_ames: pd.DataFrame
) -> None:
    model, _ = load_bundle(bundle_dir)
    exp = explain(model, small_ames.head(1))
    assert exp.values.shape == (1, len(exp.sources))


def test_the_regressor_is_opened_in_the_background_after_the_model_serves(
    client: TestClient,
) -> None:
    import gc
    import time

    served = client.app.state.holder.get().model  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while "regressor" not in served.__dict__ and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "regressor" in served.__dict__  # loaded by the preload thread, not by a request
    time.sleep(0.5)
    assert gc.get_freeze_count() == 0  # PP_GC_FREEZE=false (as in these tests): left alone
    assert client.post("/v1/explain", json={"gr_liv_area": 1500}).status_code == 200


def test_the_heap_is_frozen_once_the_model_and_its_libraries_are_loaded(
    bundle_dir: Path, tmp_path: Path
) -> None:
    import gc
    import time

    from fastapi.testclient import TestClient

    from prices_predictor.serving.app import create_app
    from tests.serving.fixtures import make_settings, wait_ready

    assert gc.get_freeze_count() == 0
    try:
        app = create_app(make_settings(tmp_path / "home", bundle_dir, gc_freeze=True))
        with TestClient(app) as c:
            wait_ready(c)
            served = app.state.holder.get().model
            deadline = time.monotonic() + 30
            while gc.get_freeze_count() == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert gc.get_freeze_count() > 10_000  # libraries and model: out of the GC's scans
            assert "regressor" in served.__dict__  # frozen after the preload, not before
            assert c.post("/v1/predict/batch", json={"houses": [{}] * 20}).status_code == 200
    finally:
        gc.unfreeze()
