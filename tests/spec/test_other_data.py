"""Own data, any schema: train with no spec, gate, serve, price a house by the file's names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from prices_predictor.core.settings import Settings
from prices_predictor.serving.app import create_app
from tests import datasets
from tests.conftest import run_cli
from tests.other_data import UNSOLD, UNSOLD_IN
from tests.serving.fixtures import TOKEN, wait_ready

pytestmark = pytest.mark.slow


def _client(env: dict[str, str], **kw: object) -> TestClient:
    s = Settings(
        home=Path(env["PP_HOME"]),
        reload_interval_s=0,
        admin_token=TOKEN,
        prediction_log_flush_s=0.05,
        **kw,
    )  # type: ignore[arg-type]
    return TestClient(create_app(s))


@pytest.mark.parametrize("name", ["windsor", "saratoga", "sacramento"])
def test_train_gate_and_serve_a_file_of_another_schema(
    name: str, other_homes: dict[str, dict[str, str]]
) -> None:
    env = other_homes[name]
    out = env["TRAIN_STDOUT"]
    assert "spec inferred" in out and "-> PROMOTED" in out, out
    assert "baseline_rmse" in out  # the baseline the gate compared with is shown
    rows = pd.read_csv(env["DATA"])
    if name == UNSOLD_IN:  # houses listed without a price are left out, saying so
        sold = rows[datasets.target(name)].notna().sum()
        assert f"{UNSOLD} of {len(rows)} rows have no price" in out
        assert f"{sold} sales remain" in out and f"{sold} rows, fingerprint" in out
    house = rows.drop(columns=[datasets.target(name)]).iloc[3].to_dict()
    with _client(env) as c:
        wait_ready(c)
        card = c.get("/v1/model").json()
        assert card["spec"]["target"]["column"] == datasets.target(name)
        assert card["metrics"]["baseline_rmse"] > card["metrics"]["rmse"]
        # the house with the file's own column names
        r = c.post("/v1/predict", json=house)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["price_low"] < body["price"] < body["price_high"]
        # the same house by the snake_case fields the OpenAPI lists
        props = c.get("/openapi.json").json()["components"]["schemas"]["HouseFeatures"]
        names = {f["column"]: f["name"] for f in card["fields"]}
        assert set(names.values()) <= set(props["properties"])
        snake = {names[k]: v for k, v in house.items() if k in names}
        if name == UNSOLD_IN:
            assert names["Wohnfläche (ft²)"] == "wohnflaeche_ft2"
        again = c.post("/v1/predict", json=snake).json()
        assert again["price"] == body["price"]
        # a field the model does not know is named in a 422
        bad = c.post("/v1/predict", json={**house, "Gr Liv Area": 1500})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["field"] == "Gr Liv Area"


def test_a_hot_reload_to_a_champion_of_another_spec_switches_the_schema(
    other_homes: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    windsor = other_homes["windsor"]
    home = tmp_path / "pp"
    shutil.copytree(windsor["PP_HOME"], home)
    env = {**windsor, "PP_HOME": str(home)}
    saratoga = datasets.to_csv("saratoga", tmp_path)
    with _client(env) as c:
        wait_ready(c)
        assert "lotsize" in c.get("/openapi.json").text
        trained = run_cli(["train", "--data", str(saratoga)], env, timeout=600)
        # the gates will not swap a champion whose clients send other columns
        assert trained.returncode == 3, trained.stderr
        assert "reads other input columns" in trained.stdout
        refused = run_cli(["ab", "start", "--challenger", "2"], env, timeout=120)
        assert refused.returncode == 2
        assert "does not take the champion v1's requests" in refused.stderr
        assert "fields it lacks: airco" in refused.stderr
        forced = run_cli(
            ["promote", "--version", "2", "--force", "--reason", "new data set"], env, timeout=120
        )
        assert forced.returncode == 0, forced.stderr
        r = c.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200 and r.json()["result"]["champion"] == "loaded"
        props = c.get("/openapi.json").json()["components"]["schemas"]["HouseFeatures"]
        assert "living_area" in props["properties"] and "lotsize" not in props["properties"]
        old = c.post("/v1/predict", json={"lotsize": 5000, "bedrooms": 3})
        assert old.status_code == 422 and old.json()["detail"][0]["field"] == "lotsize"
        new = c.post("/v1/predict", json={"livingArea": 1800, "bedrooms": 3})
        assert new.status_code == 200 and new.json()["model_version"] == "2"
