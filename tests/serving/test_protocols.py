"""Protocols real clients speak: MLflow's scoring protocol (with MLflow's own client) and the
Open Inference Protocol v2 (with Triton's HTTP client), against the real server."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml

from prices_predictor.tracking.bundle import load_bundle
from tests.conftest import base_env
from tests.servers import api_server

OIP = yaml.safe_load((Path(__file__).parent / "open_inference_rest.yaml").read_text())


CENT = 0.010001  # prices are rounded to cents; see test_mlflows_own_client_works_unchanged


def oip(name: str) -> jsonschema.Draft7Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": OIP["components"]}
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="module")
def server(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("protocols")
    env = base_env(tmp / "pp", PP_MODEL_URI=str(bundle_dir))
    with api_server(env, tmp / "api.log") as (url, _):
        yield url


@pytest.fixture(scope="module")
def houses(ames: pd.DataFrame) -> pd.DataFrame:
    """Ames rows as an MLflow client has them: with the Order column the model does not read."""
    return ames.sample(40, random_state=7).drop(columns=["SalePrice"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def want(bundle_dir: Path, houses: pd.DataFrame) -> np.ndarray:
    model, _ = load_bundle(bundle_dir)
    return np.round(model.predict_price(houses.drop(columns=["Order"])), 2)


def test_mlflows_own_client_works_unchanged(
    server: str, houses: pd.DataFrame, want: np.ndarray
) -> None:
    from mlflow.pyfunc.scoring_server.client import ScoringServerClient

    host, port = server.removeprefix("http://").split(":")
    client = ScoringServerClient(host, int(port))
    client.wait_server_ready(timeout=30)
    got = client.invoke(houses).get_predictions(predictions_format="ndarray")
    # the same kernel on the same houses, both rounded to cents: a last-bit difference between
    # the columnar and the DataFrame paths can move a rounding by one cent, no more
    np.testing.assert_allclose(np.ravel(got), want, rtol=0, atol=CENT)
    # the column it does not know is ignored, and said so
    r = httpx.post(
        f"{server}/invocations",
        json={"dataframe_split": json.loads(houses.head(2).to_json(orient="split"))},
        timeout=30,
    )
    assert r.status_code == 200 and r.headers["x-ignored-columns"] == "Order"
    assert httpx.get(f"{server}/version", timeout=10).text.strip()


def _bodies(houses: pd.DataFrame) -> dict[str, tuple[str, bytes]]:
    parquet = io.BytesIO()
    houses.to_parquet(parquet, index=False)
    sink = pa.BufferOutputStream()
    table = pa.Table.from_pandas(houses, preserve_index=False)
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    records = json.loads(houses.to_json(orient="records"))
    columnar = {c: [r[c] for r in records] for c in records[0]}
    return {
        "split": (
            "application/json",
            json.dumps({"dataframe_split": json.loads(houses.to_json(orient="split"))}).encode(),
        ),
        "records": ("application/json", json.dumps({"dataframe_records": records}).encode()),
        "instances": ("application/json", json.dumps({"instances": records}).encode()),
        "inputs": ("application/json", json.dumps({"inputs": columnar}).encode()),
        "csv": ("text/csv", houses.to_csv(index=False).encode()),
        "parquet": ("application/vnd.apache.parquet", parquet.getvalue()),
        "arrow": ("application/vnd.apache.arrow.stream", sink.getvalue().to_pybytes()),
    }


@pytest.mark.parametrize(
    "kind", ["split", "records", "instances", "inputs", "csv", "parquet", "arrow"]
)
def test_every_body_type_prices_the_same_houses(
    server: str, houses: pd.DataFrame, want: np.ndarray, kind: str
) -> None:
    mime, body = _bodies(houses)[kind]
    r = httpx.post(f"{server}/invocations", content=body, headers={"content-type": mime})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["predictions"], want, rtol=0, atol=CENT)


def test_a_csv_body_is_read_as_predict_reads_the_same_file(
    server: str, houses: pd.DataFrame, want: np.ndarray
) -> None:
    # as Excel in Europe saves it: semicolons, decimal commas, a header name with spaces
    # around it, and the living area written with its unit
    frame = houses.rename(columns={"Lot Area": " Lot Area "}).assign(
        **{"Gr Liv Area": houses["Gr Liv Area"].map(lambda v: f"{v} sq ft")}
    )
    body = frame.to_csv(index=False, sep=";", decimal=",").encode()
    assert b"," in body  # decimal commas are there to be read
    r = httpx.post(f"{server}/invocations", content=body, headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["predictions"], want, rtol=0, atol=CENT)


@pytest.mark.parametrize("kind", ["split", "csv", "parquet"])
def test_a_body_with_none_of_the_models_columns_is_refused_not_priced(
    server: str, houses: pd.DataFrame, kind: str
) -> None:
    # another model's columns: every cell would be imputed, one typical price for all rows
    other = pd.DataFrame({"sqft": [1200.0, 2400.0], "zip code": ["98103", "98105"]})
    mime, body = _bodies(other)[kind]
    r = httpx.post(f"{server}/invocations", content=body, headers={"content-type": mime})
    assert r.status_code == 422, r.text
    item = r.json()["detail"][0]
    assert item["field"] == "body" and item["rule"] == "no_model_input"
    assert "none of the 2 columns sent (sqft, zip code)" in item["message"]
    # one known column among unknown ones is priced, the others named as ignored
    mime, body = _bodies(other.assign(**{"Gr Liv Area": [1200, 2400]}))[kind]
    r = httpx.post(f"{server}/invocations", content=body, headers={"content-type": mime})
    assert r.status_code == 200 and r.headers["x-ignored-columns"] == "sqft, zip code"
    v2 = {"inputs": [{"name": "sqft", "shape": [1], "datatype": "FP64", "data": [1200.0]}]}
    r = httpx.post(f"{server}/v2/models/prices_predictor/infer", json=v2, timeout=10)
    assert r.status_code == 400 and "is an input of the model" in r.json()["error"]


@pytest.mark.parametrize("kind", ["split", "csv", "parquet", "arrow"])
def test_bad_cells_are_422_naming_column_and_rows_in_every_body_type(
    server: str, houses: pd.DataFrame, kind: str
) -> None:
    bad = houses.head(8).copy()
    bad["Gr Liv Area"] = bad["Gr Liv Area"].astype(float)
    bad.loc[[2, 5], "Gr Liv Area"] = -10.0
    mime, body = _bodies(bad)[kind]
    r = httpx.post(f"{server}/invocations", content=body, headers={"content-type": mime})
    assert r.status_code == 422, r.text
    item = r.json()["detail"][0]
    assert item["field"] == "Gr Liv Area" and item["rule"].startswith("greater_than_equal")
    assert "rows 2, 5" in item["message"]
    text = houses.head(4).copy()
    text["Overall Qual"] = text["Overall Qual"].astype(str)  # numbers as text still parse
    text.loc[1, "Overall Qual"] = "excellent"
    mime, body = _bodies(text)[kind]
    r = httpx.post(f"{server}/invocations", content=body, headers={"content-type": mime})
    item = r.json()["detail"][0]
    assert r.status_code == 422 and item["field"] == "Overall Qual" and "row 1" in item["message"]


@pytest.mark.parametrize(
    ("mime", "body", "status"),
    [
        ("text/plain", b"x", 415),
        ("application/vnd.apache.parquet", b"not parquet", 422),
        ("application/vnd.apache.arrow.stream", b"\x00\x01", 422),
        ("text/csv", b"", 422),
        ("application/json", b'{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}', 422),
    ],
)
def test_unreadable_bodies_are_4xx_never_5xx(
    server: str, mime: str, body: bytes, status: int
) -> None:
    r = httpx.post(f"{server}/invocations", content=body, headers={"content-type": mime})
    assert r.status_code == status, r.text
    assert r.json()["detail"][0]["field"] in ("body", "content-type", "dataframe_split.data")


def test_open_inference_protocol_with_tritons_client(
    server: str, houses: pd.DataFrame, want: np.ndarray
) -> None:
    import tritonclient.http as triton
    from tritonclient.utils import InferenceServerException

    url = server.removeprefix("http://")
    c = triton.InferenceServerClient(url=url)
    try:
        assert c.is_server_live() and c.is_server_ready()
        assert c.is_model_ready("prices_predictor")
        meta = c.get_model_metadata("prices_predictor")
        oip("metadata_model_response").validate(meta)
        kinds = {i["name"]: i["datatype"] for i in meta["inputs"]}
        assert kinds["gr_liv_area"] == "FP64" and kinds["neighborhood"] == "BYTES"
        assert kinds["pid"] == "INT64"
        server_meta = c.get_server_metadata()
        oip("metadata_server_response").validate(server_meta)
        assert "binary_tensor_data" not in server_meta["extensions"]
        inputs = _triton_inputs(triton, houses.drop(columns=["Order"]), kinds)
        outputs = [triton.InferRequestedOutput(o, binary_data=False) for o in ("price",)]
        result = c.infer("prices_predictor", inputs, outputs=outputs, request_id="r-1")
        oip("inference_response").validate(result.get_response())
        assert result.get_response()["id"] == "r-1"
        np.testing.assert_allclose(result.as_numpy("price"), want, rtol=0, atol=CENT)
        # a bad value: 400 with the spec's {"error": ...}, read by the client
        bad = triton.InferInput("gr_liv_area", [2], "FP64")
        bad.set_data_from_numpy(np.array([1500.0, -3.0]), binary_data=False)
        with pytest.raises(InferenceServerException) as err:
            c.infer("prices_predictor", [bad])
        assert err.value.status() == "400" and "gr_liv_area" in str(err.value.message())
        # the binary extension is not supported: said so, not a crash
        binary = triton.InferInput("gr_liv_area", [1], "FP64")
        binary.set_data_from_numpy(np.array([1500.0]), binary_data=True)
        with pytest.raises(InferenceServerException, match="binary"):
            c.infer("prices_predictor", [binary])
        with pytest.raises(InferenceServerException, match="unknown model"):
            c.get_model_metadata("another_model")
    finally:
        c.close()


def _triton_inputs(triton: Any, frame: pd.DataFrame, kinds: dict[str, str]) -> list[Any]:
    from prices_predictor.spec.names import api_name

    out = []
    for column in frame.columns:
        name = api_name(column)
        kind = kinds[name]
        values = frame[column]
        if kind == "BYTES":  # a tensor has no null: an empty string is a missing value
            arr = np.array(["" if pd.isna(v) else str(v) for v in values], dtype=object)
        elif kind == "INT64":
            arr = values.to_numpy(dtype=np.int64)  # the parcel id: never missing here
        else:
            arr = values.to_numpy(dtype=np.float64)
        t = triton.InferInput(name, [len(arr)], kind)
        t.set_data_from_numpy(arr, binary_data=False)
        out.append(t)
    return out


def test_v2_errors_and_health_validate_against_the_spec(server: str) -> None:
    r = httpx.post(f"{server}/v2/models/prices_predictor/infer", content=b"{}", timeout=10)
    assert r.status_code == 400 and isinstance(r.json()["error"], str)
    oip("inference_error_response").validate(r.json())
    r = httpx.get(f"{server}/v2/models/prices_predictor/versions/999", timeout=10)
    assert r.status_code == 404 and "not served" in r.json()["error"]
    assert httpx.get(f"{server}/v2/health/live", timeout=10).status_code == 200
