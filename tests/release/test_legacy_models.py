"""Models pickled by 0.1.x (before the data spec, with the scoring kernel at its old module
path) load as the Ames preset and price as they did then. The fixture was made by 0.1.0
itself (see ``fixtures/model-0.1.0-blend.json``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from prices_predictor.serving.app import create_app
from prices_predictor.tracking.bundle import MANIFEST
from prices_predictor.tracking.checksums import sha256
from prices_predictor.tracking.registry import load_price_model_dir
from tests.serving.fixtures import make_settings, wait_ready
from tests.tolerances import float32_trees, n_trees

FIXTURES = Path(__file__).parent / "fixtures"
PICKLE = FIXTURES / "model-0.1.0-blend.joblib"
RECORD = json.loads((FIXTURES / "model-0.1.0-blend.json").read_text())


def _log_tolerance(model: object) -> float:
    # 0.1.0 scored with its own kernel, today's with another: the same leaves and terms added
    # in another order (float32 tree sums in the libraries), about a log price of ~12
    return float32_trees(n_trees(model.regressor), 13.0)  # type: ignore[attr-defined]


def test_a_0_1_model_loads_as_the_ames_preset_and_prices_as_it_did(
    ames: pd.DataFrame, tmp_path: Path
) -> None:
    (tmp_path / "artifacts").mkdir()
    shutil.copy(PICKLE, tmp_path / "artifacts" / "price_model.joblib")
    model = load_price_model_dir(tmp_path)
    assert model.spec.name == "ames"
    rows = ames.iloc[RECORD["rows"]].drop(columns=["SalePrice"])
    assert rows["PID"].tolist() == RECORD["pids"]
    got = np.log(model.predict_price(rows))
    np.testing.assert_allclose(got, np.log(RECORD["prices"]), rtol=0, atol=_log_tolerance(model))
    one = model.predict_price([rows.iloc[0].dropna().to_dict()])  # the one-row path too
    np.testing.assert_allclose(np.log(one), got[:1], rtol=0, atol=_log_tolerance(model))


def test_a_0_1_model_in_a_bundle_serves(
    bundle_dir: Path, ames: pd.DataFrame, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(bundle_dir, bundle)
    pkl = next((bundle / "model" / "artifacts").glob("*.joblib"))
    shutil.copy(PICKLE, pkl)
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest["files"] = {rel: sha256(bundle / rel) for rel in manifest["files"]}
    (bundle / MANIFEST).write_text(json.dumps(manifest))
    house = ames.iloc[RECORD["rows"][0]].drop(labels=["SalePrice", "Order"]).dropna()
    body = {str(k): v.item() if hasattr(v, "item") else v for k, v in house.items()}
    with TestClient(create_app(make_settings(tmp_path / "home", bundle))) as c:
        wait_ready(c)
        r = c.post("/v1/predict", json=body)
        assert r.status_code == 200, r.text
        assert abs(np.log(r.json()["price"]) - np.log(RECORD["prices"][0])) < 1e-3
