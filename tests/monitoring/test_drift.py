"""Drift: the alert rule on the Ames data, the API, the CLI, the history and the gauges."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from prices_predictor.data.split import protocol_split
from prices_predictor.monitoring.drift import check, top_raw_features
from prices_predictor.store.predlog import PredictionLog
from tests.conftest import AMES, base_env, logged, run_cli

IMPORTANCE = [
    {"feature": "qual_x_area"},
    {"feature": "total_sf"},
    {"feature": "Overall Qual"},
    {"feature": "Year Built"},
    {"feature": "Lot Area"},
]
RULE = {"importance": IMPORTANCE, "share_alert": 0.5, "top_k": 5, "min_rows": 200}


@pytest.fixture(scope="module")
def parts(ames: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return protocol_split(ames)


def test_top_features_expand_engineered_ones() -> None:
    assert top_raw_features(IMPORTANCE, 3, AMES) == ["Overall Qual", "Gr Liv Area", "Total Bsmt SF"]


def test_living_area_shift_alerts_through_the_top_feature_rule(parts: tuple) -> None:
    train, holdout = parts
    shifted = holdout.copy()
    shifted["Gr Liv Area"] *= 1.5
    r = check(train, shifted, AMES, kind="live", **RULE)
    assert r.alert and "Gr Liv Area" in r.drifted_top
    assert r.share < 0.5  # the share rule alone would have missed it


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unshifted_samples_raise_no_false_alarm(parts: tuple, seed: int) -> None:
    train, holdout = parts
    r = check(train, holdout.sample(300, random_state=seed), AMES, kind="live", **RULE)
    assert not r.alert, r.drifted
    assert "Pool QC" in r.columns and "Pool QC" not in r.drifted  # sparse columns stay quiet


def test_broad_shift_alerts_through_the_share_rule(parts: tuple) -> None:
    train, holdout = parts
    broad = holdout.copy()
    for c in broad.columns:
        if c in ("Order", "PID", "SalePrice"):
            continue
        if pd.api.types.is_numeric_dtype(broad[c]):
            broad[c] = broad[c] * 3 + 1000
        else:
            broad[c] = "X"
    r = check(train, broad, AMES, kind="live", **{**RULE, "importance": []})
    assert r.alert and r.share > 0.5 and r.drifted_top == []


def test_too_few_rows_is_a_clear_result(parts: tuple) -> None:
    train, holdout = parts
    r = check(train, holdout.head(20), AMES, kind="live", **RULE)
    assert r.status == "insufficient_data" and not r.alert
    assert "not enough data (n=20 < min 200)" in r.reasons[0]


def _records(df: pd.DataFrame) -> list[dict]:
    recs = json.loads(df.drop(columns=["SalePrice", "Order", "PID"]).to_json(orient="records"))
    return [{k: v for k, v in r.items() if v is not None} for r in recs]


def test_api_drift_endpoint_report_and_gauges(client: TestClient, ames: pd.DataFrame) -> None:
    r = client.get("/v1/monitoring/drift/report")
    assert r.status_code == 404
    r = client.get("/v1/monitoring/drift")
    assert r.status_code == 200 and r.json()["status"] == "insufficient_data"
    shifted = ames.sample(250, random_state=3).copy()
    shifted["Gr Liv Area"] *= 1.5
    resp = client.post("/v1/predict/batch", json={"houses": _records(shifted)})
    assert resp.status_code == 200
    r = client.get("/v1/monitoring/drift?last=250")
    body = r.json()
    assert r.status_code == 200 and body["alert"] and "Gr Liv Area" in body["drifted"]
    html = client.get("/v1/monitoring/drift/report")
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    metrics = client.get("/metrics").text
    assert "pp_drift_alert 1.0" in metrics and "pp_drift_share" in metrics
    assert 'pp_drift_feature_score{feature="Gr Liv Area"}' in metrics
    assert client.get("/v1/monitoring/drift?last=0").status_code == 422


def test_cli_drift_and_history(bundle_dir: Path, tmp_path: Path, ames: pd.DataFrame) -> None:
    home = tmp_path / "pp"
    home.mkdir()
    log = PredictionLog(f"sqlite:///{home}/predictions.db", home / "journal")
    rows = _records(ames.sample(300, random_state=4))
    log.add(logged(rows))
    log.close()
    env = base_env(home, PP_MODEL_URI=str(bundle_dir))
    proc = run_cli(["drift", "--last", "300"], env, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK live drift: 300 rows" in proc.stdout
    proc = run_cli(["drift", "--history", "--json"], env, timeout=120)
    hist = json.loads(proc.stdout)
    assert len(hist) == 1 and hist[0]["status"] == "ok"
    shutil.rmtree(home / "drift")
