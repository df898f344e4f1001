"""The Feast feature store, for real (SQLite online store, file registry, dask offline store):
the CLI applies and materializes, the API prices a house by its id, training joins point in
time."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from prices_predictor.serving.app import create_app
from tests.conftest import ROOT, run_cli
from tests.serving.fixtures import make_settings, wait_ready

pytestmark = pytest.mark.slow


def rel_close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b))


@pytest.fixture(scope="module")
def store_env(
    trained_home: dict[str, str], small_csv: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The session's trained registry, plus a feature repository of its 900 houses."""
    repo = tmp_path_factory.mktemp("feature_repo")
    env = {**trained_home, "PP_FEATURE_REPO": str(repo)}
    applied = run_cli(["features", "apply", "--data", str(small_csv)], env, check=True)
    assert "applied: 79 features of spec 'ames' in 3 views" in applied.stdout
    assert "900 sales from 2006-01-01 to 2010-07-01, entity key pid" in applied.stdout
    done = run_cli(["features", "materialize"], env, check=True)
    assert "materialized 900 sales (79 features)" in done.stdout
    return env


def house_request(row: pd.Series) -> dict[str, object]:
    """A data row as a request: the API's field names, nulls left out."""
    from prices_predictor.spec.io import preset

    spec = preset("ames")
    names = {c: spec.feature(c).api_name for c in spec.names()}
    names["PID"] = "pid"
    out: dict[str, object] = {}
    for c, name in names.items():
        v = row[c]
        if pd.isna(v):
            continue
        out[name] = v.item() if hasattr(v, "item") else v
    return out


def test_get_shows_a_house_as_stored_and_names_an_unknown_id(
    store_env: dict[str, str], small_ames: pd.DataFrame
) -> None:
    row = small_ames.iloc[3]
    got = run_cli(["features", "get", "--id", str(row["PID"]), "--json"], store_env, check=True)
    data = json.loads(got.stdout)
    assert data["pid"] == row["PID"]
    assert data["gr_liv_area"] == row["Gr Liv Area"]
    assert data["neighborhood"] == row["Neighborhood"]
    assert "lot_frontage" not in data or data["lot_frontage"] == row["Lot Frontage"]
    bad = run_cli(["features", "get", "--id", "12345"], store_env)
    assert bad.returncode == 2
    assert "no house with PID=12345 in the feature store" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.fixture()
def store_client(
    store_env: dict[str, str], bundle_dir: Path, tmp_path: Path
) -> Iterator[TestClient]:
    s = make_settings(
        tmp_path / "home",
        bundle_dir,
        feature_store="feast",
        feature_repo=Path(store_env["PP_FEATURE_REPO"]),
        feature_retry_s=0,
        cache_size=0,
    )
    with TestClient(create_app(s)) as c:
        wait_ready(c)
        yield c


def test_by_id_prices_as_the_full_house_and_request_fields_override(
    store_client: TestClient, small_ames: pd.DataFrame
) -> None:
    row = small_ames.iloc[7]
    full = house_request(row)
    pid = full["pid"]
    by_id = store_client.post("/v1/predict", json={"pid": pid})
    assert by_id.status_code == 200, by_id.text
    sent = store_client.post("/v1/predict", json=full)
    assert sent.status_code == 200, sent.text
    assert rel_close(by_id.json()["price"], sent.json()["price"], 1e-9)
    src = by_id.json()["sources"]
    assert src["request"] == ["pid"]
    assert "gr_liv_area" in src["store"] and "overall_qual" in src["store"]
    assert set(src["imputed"]).isdisjoint(src["store"])
    assert sent.json()["sources"]["store"] == []

    bigger = float(row["Gr Liv Area"]) + 600
    over = store_client.post("/v1/predict", json={"pid": pid, "gr_liv_area": bigger})
    assert over.status_code == 200
    assert "gr_liv_area" in over.json()["sources"]["request"]
    assert "gr_liv_area" not in over.json()["sources"]["store"]
    same = store_client.post("/v1/predict", json={**full, "gr_liv_area": bigger})
    assert rel_close(over.json()["price"], same.json()["price"], 1e-9)
    assert over.json()["price"] > by_id.json()["price"]  # Gr Liv Area carries a +1 promise


def test_unknown_ids_404_alone_and_warn_with_fields(store_client: TestClient) -> None:
    alone = store_client.post("/v1/predict", json={"pid": 999999999})
    assert alone.status_code == 404
    item = alone.json()["detail"][0]
    assert item["field"] == "pid" and "pid=999999999" in item["message"]
    with_fields = store_client.post(
        "/v1/predict", json={"pid": 999999999, "gr_liv_area": 1500, "overall_qual": 6}
    )
    assert with_fields.status_code == 200
    assert any(
        "pid=999999999 is not in the feature store" in w for w in with_fields.json()["warnings"]
    )
    assert with_fields.json()["sources"]["store"] == []
    batch = store_client.post(
        "/v1/predict/batch", json={"houses": [{"gr_liv_area": 1500}, {"pid": 999999998}]}
    )
    assert batch.status_code == 404
    assert batch.json()["detail"][0]["field"] == "houses.1.pid"


def test_batch_and_explain_read_the_store(
    store_client: TestClient, small_ames: pd.DataFrame
) -> None:
    rows = [small_ames.iloc[i] for i in (1, 2, 5)]
    singles = [
        store_client.post("/v1/predict", json=house_request(r)).json()["price"] for r in rows
    ]
    batch = store_client.post(
        "/v1/predict/batch", json={"houses": [{"pid": int(r["PID"])} for r in rows]}
    )
    assert batch.status_code == 200, batch.text
    preds = batch.json()["predictions"]
    for p, want in zip(preds, singles, strict=True):
        assert rel_close(p["price"], want, 1e-9)
        assert p["sources"]["request"] == ["pid"] and p["sources"]["store"]
    exp = store_client.post("/v1/explain", json={"pid": int(rows[0]["PID"])})
    assert exp.status_code == 200, exp.text
    assert rel_close(exp.json()["price"], singles[0], 1e-6)
    assert exp.json()["sources"]["request"] == ["pid"]


def test_store_gone_503_for_id_requests_full_houses_still_priced(
    store_client: TestClient, store_env: dict[str, str], small_ames: pd.DataFrame
) -> None:
    db = Path(store_env["PP_FEATURE_REPO"]) / "online.db"
    row = small_ames.iloc[11]
    full = house_request(row)
    assert store_client.post("/v1/predict", json={"pid": full["pid"]}).status_code == 200
    aside = db.with_name("online.db.aside")
    db.rename(aside)
    try:
        down = store_client.post("/v1/predict", json={"pid": full["pid"]})
        assert down.status_code == 503
        assert "online store file" in down.json()["detail"] and "missing" in down.json()["detail"]
        assert down.headers["retry-after"]
        few = store_client.post("/v1/predict", json={"pid": full["pid"], "gr_liv_area": 1400})
        assert few.status_code == 503
        ok = store_client.post("/v1/predict", json=full)
        assert ok.status_code == 200
        assert any("feature store is unavailable" in w for w in ok.json()["warnings"])
        anon = {k: v for k, v in full.items() if k != "pid"}
        assert store_client.post("/v1/predict", json=anon).status_code == 200
        assert store_client.get("/ready").status_code == 200
    finally:
        aside.rename(db)
    back = store_client.post("/v1/predict", json={"pid": full["pid"]})
    assert back.status_code == 200, back.text
    assert back.json()["sources"]["store"]


def test_a_server_with_the_store_off_never_imports_feast(bundle_dir: Path, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from prices_predictor.core.settings import Settings\n"
        "from prices_predictor.serving.app import create_app\n"
        f"create_app(Settings(home={str(tmp_path)!r}, model_uri={str(bundle_dir)!r}))\n"
        "assert 'feast' not in sys.modules, 'feast imported'\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_point_in_time_frame_is_the_file_on_ames(ames: pd.DataFrame, tmp_path: Path) -> None:
    from prices_predictor.core.settings import Settings
    from prices_predictor.featurestore import historical, repo
    from prices_predictor.spec.io import preset

    s = Settings(home=tmp_path)
    spec = preset("ames")
    repo.apply(s, spec, ames)
    tf = historical.training_frame(s, spec, ames)
    assert tf.unmatched == 0 and len(tf.from_store) == 79
    pd.testing.assert_frame_equal(tf.frame, ames)


def test_point_in_time_join_takes_the_attributes_as_of_each_sale(
    small_ames: pd.DataFrame, tmp_path: Path
) -> None:
    """A house sold twice: each sale is joined with what the house was at that date."""
    from prices_predictor.core.settings import Settings
    from prices_predictor.featurestore import historical, repo
    from prices_predictor.spec.io import preset

    s = Settings(home=tmp_path)
    spec = preset("ames")
    first = small_ames.iloc[[0]].assign(**{"Yr Sold": 2006, "Mo Sold": 3, "Gr Liv Area": 1000})
    second = first.assign(**{"Yr Sold": 2009, "Mo Sold": 5, "Gr Liv Area": 1800})
    repo.apply(s, spec, pd.concat([first, second, small_ames.iloc[1:50]], ignore_index=True))
    sales = pd.concat([second, first, first, small_ames.iloc[[1]]], ignore_index=True)
    sales.loc[3, "Yr Sold"], sales.loc[3, "Mo Sold"] = 2005, 1  # before its only record
    tf = historical.training_frame(
        s, spec, sales.drop(columns=["Gr Liv Area"]).assign(**{"Gr Liv Area": 0})
    )
    got = tf.frame["Gr Liv Area"].tolist()
    assert got[:3] == [1800, 1000, 1000]
    assert pd.isna(got[3]) and tf.unmatched == 1


@pytest.mark.long  # two trainings: in make test-slow
def test_train_from_the_store_gives_the_file_path_metrics(
    store_env: dict[str, str], small_csv: Path, tmp_path: Path
) -> None:
    home = tmp_path / "pp"
    shutil.copytree(store_env["PP_HOME"], home)
    env = {**store_env, "PP_HOME": str(home), "PP_FEATURE_STORE": "feast"}
    direct = run_cli(
        ["train", "--data", str(small_csv), "--model", "linear", "--no-deploy"], env, check=True
    )
    joined = run_cli(
        [
            "train",
            "--data",
            str(small_csv),
            "--model",
            "linear",
            "--no-deploy",
            "--features",
            "feast",
        ],
        env,
        check=True,
    )
    assert "79 columns from the store as of each sale" in joined.stdout
    assert "materialized 900 sales" in joined.stdout  # PP_FEATURE_STORE=feast: on by default
    listed = json.loads(run_cli(["models", "--json"], env, check=True).stdout)
    by_version = {str(m["version"]): m["metrics"] for m in listed}
    a, b = by_version[_version(direct.stdout)], by_version[_version(joined.stdout)]
    assert a and a == b


def _version(stdout: str) -> str:
    line = next(ln for ln in stdout.splitlines() if "registered" in ln and "version" in ln)
    return line.split("version")[-1].strip()


def test_cli_errors_name_the_problem(small_ames: pd.DataFrame, tmp_path: Path) -> None:
    from tests.conftest import base_env

    env = base_env(tmp_path / "pp")
    nothing = run_cli(["features", "materialize"], env)
    assert nothing.returncode == 2
    assert "no feature repository; run 'prices-predictor features apply'" in nothing.stderr
    no_id = tmp_path / "no_id.csv"
    small_ames.drop(columns=["PID", "Order"]).head(300).to_csv(no_id, index=False)
    refused = run_cli(["features", "apply", "--data", str(no_id), "--spec", "infer"], env)
    assert refused.returncode == 2, refused.stdout
    assert "has no id column: the feature store keys houses by it" in refused.stderr
    assert "Traceback" not in refused.stderr + nothing.stderr


def test_redis_online_store_fails_and_recovers_with_the_server(
    small_ames: pd.DataFrame, tmp_path: Path
) -> None:
    """Any Feast online store by configuration: Redis here, down then back on its port."""
    from prices_predictor.core.settings import Settings
    from prices_predictor.featurestore import repo
    from prices_predictor.featurestore.online import OnlineFeatures, StoreUnavailable
    from prices_predictor.spec.io import preset
    from tests.servers import free_port, redis_server

    port = free_port()
    conf = json.dumps({"type": "redis", "connection_string": f"127.0.0.1:{port},db=1"})
    s = Settings(home=tmp_path / "pp", feature_online_store=conf, feature_retry_s=0)  # type: ignore[call-arg]
    spec = preset("ames")
    houses = small_ames.head(100)
    pid = int(houses["PID"].iloc[4])
    with redis_server(tmp_path / "redis", port):
        repo.apply(s, spec, houses)
        repo.materialize(s)
        online = OnlineFeatures(s)
        got = online.lookup([pid, 1], ["Gr Liv Area", "Neighborhood"])
        assert got[0].known and got[0].values["Gr Liv Area"] == houses["Gr Liv Area"].iloc[4]
        assert not got[1].known  # Redis answers unknown keys as present with nulls
    with pytest.raises(StoreUnavailable, match="ConnectionError"):
        online.lookup([pid], ["Gr Liv Area"])
    with redis_server(tmp_path / "redis", port):  # same data directory: append-only file
        again = online.lookup([pid], ["Gr Liv Area"])
        assert again[0].values["Gr Liv Area"] == houses["Gr Liv Area"].iloc[4]
