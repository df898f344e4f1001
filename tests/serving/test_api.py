"""The prediction API through HTTP: answers, ranges, imputation, MLflow payloads, errors."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from prices_predictor.serving.app import create_app
from prices_predictor.serving.schemas import BatchResponse
from prices_predictor.tracking.bundle import load_bundle
from tests.serving.fixtures import TOKEN, make_settings, wait_ready

HOUSE = {
    "gr_liv_area": 1710,
    "overall_qual": 7,
    "neighborhood": "CollgCr",
    "year_built": 2003,
    "total_bsmt_sf": 856,
    "garage_cars": 2,
}


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = json.loads(
        df.drop(columns=["SalePrice", "Order"]).to_json(orient="records")
    )
    return out


def test_health_ready_and_model_card(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["status"] == "ready" and ready["model_version"] == "1"
    # the batch kernels and explanations load in the background after ready
    deadline = time.monotonic() + 120
    while not client.get("/ready").json()["preloaded"]:
        assert time.monotonic() < deadline, "not preloaded after 120 s"
        time.sleep(0.1)
    card = client.get("/v1/model").json()
    assert card["name"] == "prices_predictor" and card["version"] == "1"
    assert card["alias"] == "bundle" and "rmse" in card["metrics"]
    # CV beside the holdout metrics (mean and spread over the folds)
    assert 0 < card["metrics"]["cv_rmse_std"] < card["metrics"]["cv_rmse_mean"] < 0.3
    assert "Gr Liv Area" in card["features"] and card["interval_coverage"] == 0.8
    location = card["location"]
    assert location["column"] == "PID" and location["divisor"] == 1000 and location["blocks"] > 100


def test_predict_one_house(client: TestClient) -> None:
    r = client.post("/v1/predict", json=HOUSE, headers={"X-Request-ID": "abc-123"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert r.headers["x-request-id"] == "abc-123" and body["request_id"] == "abc-123"
    assert r.headers["x-model-version"] == "1"
    assert body["price_low"] < body["price"] < body["price_high"]
    assert 80_000 < body["price"] < 500_000
    assert body["model"] == {
        "name": "prices_predictor",
        "version": "1",
        "alias": "bundle",
        "variant": "champion",
    }
    assert "lot_area" in body["imputed"] and "gr_liv_area" not in body["imputed"]
    assert body["warnings"] == []


def test_original_names_are_accepted_and_give_the_same_price(client: TestClient) -> None:
    a = client.post("/v1/predict", json=HOUSE).json()["price"]
    b = client.post(
        "/v1/predict",
        json={
            "Gr Liv Area": 1710,
            "Overall Qual": 7,
            "Neighborhood": "CollgCr",
            "Year Built": 2003,
            "Total Bsmt SF": 856,
            "Garage Cars": 2,
        },
    ).json()["price"]
    assert a == b


def test_a_parcel_id_adds_its_blocks_location_effect(client: TestClient, bundle_dir: Path) -> None:
    location = load_bundle(bundle_dir)[0].location
    assert location is not None
    i = int(np.argmax(np.abs(location.effects)))  # the block furthest from the model
    pid = int(location.keys[i]) * location.spec.divisor + 7
    without = client.post("/v1/predict", json=HOUSE).json()
    within = client.post("/v1/predict", json={**HOUSE, "pid": pid}).json()
    assert "pid" in without["imputed"] and "pid" not in within["imputed"]
    assert within["price"] == pytest.approx(without["price"] * np.exp(location.effects[i]))
    assert abs(within["price"] / without["price"] - 1) > 0.005
    # a block the training data never saw: the price without location
    unseen = client.post("/v1/predict", json={**HOUSE, "PID": 7}).json()
    assert unseen["price"] == without["price"] and "pid" not in unseen["imputed"]


def test_missing_key_features_warn(client: TestClient) -> None:
    body = client.post("/v1/predict", json={"lot_area": 9000}).json()
    assert body["warnings"] and "gr_liv_area" in body["warnings"][0]
    assert "neighborhood" in body["imputed"]


def test_values_outside_the_training_range_warn(client: TestClient) -> None:
    huge = client.post("/v1/predict", json={**HOUSE, "gr_liv_area": 20_000}).json()
    (warning,) = huge["warnings"]
    assert warning.startswith("gr_liv_area=20000 is outside the training range [")
    batch = client.post("/v1/predict/batch", json={"houses": [HOUSE, {**HOUSE, "lot_area": 1}]})
    first, second = batch.json()["predictions"]
    assert first["warnings"] == [] and "lot_area=1 is outside" in second["warnings"][0]


def test_a_soft_range_prices_as_sent_and_a_hard_one_refuses(
    client: TestClient, small_ames: pd.DataFrame
) -> None:
    """Ames' garage year is a soft rule (``hard: false``: a typo year is a finding in
    training, not a stop); requests follow the same rule, in every route."""
    future = time.gmtime().tm_year + 5  # above the soft range's current_year
    fields = {f["column"]: f for f in client.get("/v1/model").json()["fields"]}
    assert fields["Garage Yr Blt"]["range"]["hard"] is False
    assert fields["Gr Liv Area"]["range"]["hard"] is True
    soft = client.post("/v1/predict", json={**HOUSE, "garage_yr_blt": future})
    assert soft.status_code == 200, soft.text
    assert soft.json()["price"] > 10_000
    hard = client.post("/v1/predict", json={**HOUSE, "year_built": 1700})
    assert hard.status_code == 422
    head = (
        small_ames.head(3).drop(columns=["SalePrice", "Order"]).assign(**{"Garage Yr Blt": future})
    )
    split = json.loads(head.to_json(orient="split", index=False))
    r = client.post("/invocations", json={"dataframe_split": split})
    assert r.status_code == 200, r.text
    split["data"][1][split["columns"].index("Year Built")] = 1700
    r = client.post("/invocations", json={"dataframe_split": split})
    assert r.status_code == 422
    (item,) = r.json()["detail"]
    assert item["field"] == "Year Built" and item["rule"].startswith("greater_than_equal")
    assert "row 1" in item["message"]


def test_api_matches_the_mlflow_model(
    client: TestClient, bundle_dir: Path, small_ames: pd.DataFrame
) -> None:
    """The fast row path answers exactly what the registered pyfunc model answers."""
    import mlflow.pyfunc

    rows = small_ames.sample(25, random_state=3)
    pyfunc = mlflow.pyfunc.load_model(str(bundle_dir / "model"))
    expected = np.asarray(pyfunc.predict(rows.drop(columns=["SalePrice"])))
    got = []
    for rec in records(rows):
        rec = {k: v for k, v in rec.items() if v is not None}
        got.append(client.post("/v1/predict", json=rec).json()["price"])
    # the kernel adds XGBoost's leaves in float64 where the library sums float32: ~1e-6 of the
    # log price at most (tests/tolerances.py), so 1e-6 relative on the price; atol: the
    # response rounds prices to cents
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0.01)


def test_batch(client: TestClient, small_ames: pd.DataFrame, bundle_dir: Path) -> None:
    recs = [{k: v for k, v in r.items() if v is not None} for r in records(small_ames.head(200))]
    r = client.post("/v1/predict/batch", json={"houses": recs})
    assert r.status_code == 200, r.text
    body = BatchResponse.model_validate(r.json())  # the documented schema, field for field
    assert r.headers["x-model-version"] == body.model_version == body.model.version
    assert r.headers["x-request-id"] == body.request_id
    assert all(p.price_low < p.price < p.price_high for p in body.predictions)
    preds = r.json()["predictions"]
    model, _ = load_bundle(bundle_dir)
    # the same kernel in and out of the server; atol: the response rounds prices to cents
    np.testing.assert_allclose(
        [p["price"] for p in preds], model.predict_price(small_ames.head(200)), rtol=1e-6, atol=0.01
    )


@pytest.mark.parametrize("fmt", ["dataframe_split", "dataframe_records", "instances", "inputs"])
def test_invocations_accepts_mlflow_payloads(
    client: TestClient, small_ames: pd.DataFrame, fmt: str
) -> None:
    head = small_ames.head(3)
    recs = records(head)
    if fmt == "dataframe_split":
        payload: dict[str, Any] = {
            fmt: json.loads(
                head.drop(columns=["SalePrice", "Order", "PID"]).to_json(
                    orient="split", index=False
                )
            )
        }
    elif fmt == "inputs":
        payload = {fmt: {k: [r[k] for r in recs] for k in recs[0]}}
    else:
        payload = {fmt: recs}
    r = client.post("/invocations", json=payload)
    assert r.status_code == 200, r.text
    preds = r.json()["predictions"]
    assert len(preds) == 3 and all(p > 10_000 for p in preds)


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"gr_liv_area": "big"}, "gr_liv_area", "float_parsing"),
        ({"gr_liv_area": -1}, "gr_liv_area", "greater_than_equal"),
        ({"year_built": 1700}, "year_built", "greater_than_equal"),
        ({"yr_sold": 3000}, "yr_sold", "less_than_equal"),
        ({"overall_qual": 11}, "overall_qual", "less_than_equal"),
        ({"overall_cond": 0}, "overall_cond", "greater_than_equal"),
        ({"colour": "red"}, "colour", "extra_forbidden"),
        ({"pid": -1}, "pid", "greater_than_equal"),
        ({"pid": "526-301-100"}, "pid", "int_parsing"),
        ({"PID": 526301100.5}, "PID", "int_from_float"),  # named as sent
    ],
)
def test_bad_fields_are_422_naming_field_and_rule(
    client: TestClient, body: dict[str, Any], field: str, rule: str
) -> None:
    r = client.post("/v1/predict", json=body)
    assert r.status_code == 422
    item = r.json()["detail"][0]
    assert item["field"] == field and item["rule"].startswith(rule)


def test_a_column_the_model_does_not_use_is_named_and_said_to_be_no_input(
    client: TestClient,
) -> None:
    # a client sending a row of its file as it is: the address was left out at training
    r = client.post("/v1/predict", json={"gr_liv_area": 1500, "Address": "1 Main St"})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {
            "field": "Address",
            "rule": "extra_forbidden",
            "message": "not an input of the served model (GET /v1/model lists its features)",
        }
    ]


def test_nan_and_infinity_are_rejected_by_v1_and_nan_is_missing_for_mlflow(
    client: TestClient,
) -> None:
    json_type = {"content-type": "application/json"}
    for literal in ("NaN", "Infinity", "-Infinity"):
        r = client.post("/v1/predict", content=f'{{"gr_liv_area": {literal}}}', headers=json_type)
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "gr_liv_area"
    # MLflow clients write NaN for a missing value: imputed, as MLflow's server takes it
    body = '{"dataframe_records": [{"Gr Liv Area": 1500}, {"Gr Liv Area": NaN}]}'
    r = client.post("/invocations", content=body, headers=json_type)
    assert r.status_code == 200 and len(r.json()["predictions"]) == 2
    missing = client.post("/invocations", json={"dataframe_records": [{"Gr Liv Area": None}]})
    missing = missing.json()
    assert r.json()["predictions"][1] == missing["predictions"][0]
    for literal in ("Infinity", "-Infinity"):
        body = f'{{"dataframe_records": [{{"Gr Liv Area": 1500}}, {{"Gr Liv Area": {literal}}}]}}'
        r = client.post("/invocations", content=body, headers=json_type)
        assert r.status_code == 422, literal
        item = r.json()["detail"][0]
        assert item["field"] == "Gr Liv Area" and item["rule"] == "finite_number"
        assert "row 1" in item["message"]
    r = client.post("/invocations", content='{"inputs": [', headers=json_type)
    assert r.status_code == 422 and r.json()["detail"][0]["rule"] == "json"


def test_transport_errors(client: TestClient) -> None:
    r = client.post(
        "/v1/predict",
        content="gr_liv_area=5",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415
    r = client.post(
        "/v1/predict", content="{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    r = client.post("/v1/predict/batch", json={"houses": []})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "houses"
    r = client.post("/invocations", json={"dataframe_records": [{"Gr Liv Area": -3}]})
    item = r.json()["detail"][0]
    assert r.status_code == 422 and item["field"] == "Gr Liv Area" and "row 0" in item["message"]
    r = client.post("/invocations", json={"foo": []})
    assert r.status_code == 422 and r.json()["detail"][0]["rule"] == "mlflow_format"


def test_limits(bundle_dir: Path, tmp_path: Path) -> None:
    app = create_app(
        make_settings(tmp_path / "h", bundle_dir, max_batch_rows=5, max_body_bytes=4096)
    )
    with TestClient(app) as c:
        wait_ready(c)
        r = c.post("/v1/predict/batch", json={"houses": [HOUSE] * 6})
        assert r.status_code == 422 and r.json()["detail"][0]["rule"] == "max_items"
        r = c.post("/v1/predict/batch", json={"houses": [HOUSE] * 200})
        assert r.status_code == 413 and r.json()["detail"][0]["field"] == "body"
        assert c.get("/health").status_code == 200  # the service lives on


def test_metrics_and_prediction_log(client: TestClient) -> None:
    for _ in range(3):
        assert client.post("/v1/predict", json=HOUSE).status_code == 200
    client.post("/v1/predict", json={"gr_liv_area": -1})
    client.post("/v1/predict", json={"colour": "red"})
    client.post("/invocations", json={"inputs": [HOUSE, {"garage_cars": -1}]})
    text = client.get("/metrics").text
    assert 'pp_requests_total{method="POST",route="/v1/predict",status="200"} 3.0' in text
    assert "pp_request_latency_seconds_bucket" in text
    assert 'pp_validation_errors_total{field="gr_liv_area"} 1.0' in text
    # labels are schema names: a client's unknown field or a row number never becomes one
    assert 'pp_validation_errors_total{field="unknown_field"} 1.0' in text
    assert 'pp_validation_errors_total{field="garage_cars"} 1.0' in text
    assert "pp_cache_hits_total 2.0" in text and "pp_cache_misses_total 1.0" in text
    assert 'pp_model_info{name="prices_predictor",variant="champion",version="1"} 1.0' in text
    assert "pp_predicted_price_dollars_bucket" in text
    assert 'pp_rows_scored_total{variant="champion"} 3.0' in text
    log = client.app.state.predlog  # type: ignore[attr-defined]
    assert log.flush(60)
    from prices_predictor.store.predictions import read_recent

    rows = read_recent(log.engine)
    assert len(rows) == 3
    assert rows[0]["model_version"] == "1" and rows[0]["features"]["Gr Liv Area"] == 1710
    assert rows[0]["price_low"] < rows[0]["price"] < rows[0]["price_high"]


def test_admin_reload_requires_the_token(
    client: TestClient, bundle_dir: Path, tmp_path: Path
) -> None:
    r = client.post("/admin/reload")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.post("/admin/reload", headers={"Authorization": TOKEN}).status_code == 401
    wrong = [TOKEN[:-1], TOKEN + "x", "nope", TOKEN.upper()]
    for token in wrong:
        r = client.post("/admin/reload", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403 and r.json()["detail"] == "wrong admin token", token
    r = client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json()["versions"] == {"champion": "1"}
    s = make_settings(tmp_path / "h2", bundle_dir)
    s.admin_token = None
    with TestClient(create_app(s)) as c:
        assert c.post("/admin/reload").status_code == 404


def test_not_ready_until_a_model_loads(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "h", tmp_path / "no-bundle"))
    with TestClient(app) as c:
        import time

        time.sleep(0.5)
        r = c.get("/ready")
        assert r.status_code == 503 and "bundle directory not found" in r.json()["reason"]
        r = c.post("/v1/predict", json=HOUSE)
        assert r.status_code == 503 and "not ready" in r.json()["detail"]


def test_fast_path_answers_as_the_documented_route(bundle_dir: Path, tmp_path: Path) -> None:
    """POST /v1/predict is served ahead of FastAPI's router; without it the route answers."""
    from prices_predictor.serving.fastpath import SinglePredictPath

    plain = create_app(make_settings(tmp_path / "plain", bundle_dir, cache_size=0))
    plain.user_middleware = [m for m in plain.user_middleware if m.cls is not SinglePredictPath]
    fast = create_app(make_settings(tmp_path / "fast", bundle_dir, cache_size=0))
    calls: list[dict[str, Any]] = [
        {"json": HOUSE, "headers": {"X-Request-ID": "same-id", "X-Client-ID": "c1"}},
        {"json": HOUSE, "headers": {"X-Request-ID": "same-id", "Cookie": "pp_client=c2"}},
        {"json": {"overall_qual": 12, "colour": "red"}},
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        {"content": b"a=1", "headers": {"content-type": "text/plain"}},
    ]
    with TestClient(plain) as p, TestClient(fast) as f:
        wait_ready(p)
        wait_ready(f)
        for kw in calls:
            a, b = p.post("/v1/predict", **kw), f.post("/v1/predict", **kw)
            assert a.status_code == b.status_code, kw
            assert a.headers.get("x-model-version") == b.headers.get("x-model-version")
            assert a.headers["content-type"] == b.headers["content-type"]
            if "same-id" in str(kw):
                assert a.json() == b.json()
            else:
                assert a.json()["detail"] == b.json()["detail"]
        assert p.get("/metrics").text.count("pp_validation_errors_total{") == 3
        for c in (p, f):
            text = c.get("/metrics").text
            assert 'pp_requests_total{method="POST",route="/v1/predict",status="200"} 2.0' in text
            assert 'route="/v1/predict",status="422"} 2.0' in text
