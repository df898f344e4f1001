"""A/B over HTTP on the registry: variants, shadow mode, feedback, report, CLI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prices_predictor.core.settings import Settings
from prices_predictor.serving.app import create_app
from prices_predictor.store.predictions import read_recent
from prices_predictor.tracking.mlflow_env import configure
from prices_predictor.tracking.registry import client as mlflow_client
from tests.conftest import private_home, run_cli
from tests.serving.fixtures import wait_ready

HOUSE = {"gr_liv_area": 1500, "overall_qual": 6}


@pytest.fixture()
def registry_home(
    trained_home: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A copy of the trained registry with version 2 as challenger."""
    home = tmp_path / "pp"
    private_home(trained_home, home, "zenml", "serving", "predictions.db*")
    monkeypatch.setenv("PP_HOME", str(home))
    s = Settings()
    configure(s)
    c = mlflow_client()
    src = c.get_model_version(s.model_name, "1")
    v2 = c.create_model_version(s.model_name, src.source, run_id=src.run_id).version
    c.set_registered_model_alias(s.model_name, "challenger", v2)
    return home


def app_client(home: Path, **kw: object) -> Iterator[TestClient]:
    s = Settings(home=home, reload_interval_s=0, prediction_log_flush_s=0.05, cache_size=0, **kw)  # type: ignore[arg-type]
    with TestClient(create_app(s)) as c:
        wait_ready(c)
        deadline = time.monotonic() + 30
        while "challenger" not in c.get("/ready").json()["variants"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        yield c


def test_split_is_attributed_sticky_and_logged(registry_home: Path) -> None:
    for c in app_client(registry_home, ab_experiment_id="exp-t", ab_weight=0.5):
        seen: dict[str, str] = {}
        for i in range(40):
            r = c.post("/v1/predict", json=HOUSE, headers={"X-Client-ID": f"client-{i}"})
            body = r.json()
            assert r.headers["x-model-version"] == body["model_version"]
            seen[f"client-{i}"] = body["variant"]
            assert body["model_version"] == ("2" if body["variant"] == "challenger" else "1")
        assert set(seen.values()) == {"champion", "challenger"}
        again = c.post("/v1/predict", json=HOUSE, headers={"X-Client-ID": "client-7"}).json()
        assert again["variant"] == seen["client-7"]
        assert c.app.state.predlog.flush(60)  # type: ignore[attr-defined]
        rows = read_recent(c.app.state.predlog.engine)  # type: ignore[attr-defined]
        logged = {r["client_id"]: r["variant"] for r in rows}
        assert logged["client-3"] == seen["client-3"]
        # feedback and the report
        rid = c.post("/v1/predict", json=HOUSE, headers={"X-Client-ID": "client-1"}).json()[
            "request_id"
        ]
        assert (
            c.post(
                "/v1/feedback",
                json={"request_id": "nope", "event": "lead_contacted", "value": True},
            ).status_code
            == 404
        )
        ok = c.post(
            "/v1/feedback",
            json={
                "request_id": rid,
                "event": "lead_contacted",
                "value": True,
                "actual_price": 150_000,
            },
        )
        assert ok.status_code == 200 and all(s["new"] for s in ok.json()["stored"])
        dup = c.post(
            "/v1/feedback", json={"request_id": rid, "event": "lead_contacted", "value": True}
        )
        assert dup.status_code == 200 and dup.json()["stored"][0]["new"] is False
        for bad in (
            {"request_id": rid},
            {"request_id": rid, "event": "x"},
            {"request_id": rid, "actual_price": -5},
            {"request_id": "", "value": True},
        ):
            assert c.post("/v1/feedback", json=bad).status_code == 422, bad
        rep = c.get("/v1/ab/report").json()
        variant = seen["client-1"]
        assert rep["variants"][variant]["conversions"] == 1
        assert rep["variants"][variant]["n_prices"] == 1
        assert rep["verdict"] == "keep running"


def test_shadow_scores_off_path_and_its_failure_never_fails_requests(registry_home: Path) -> None:
    for c in app_client(registry_home, shadow=True):
        r = c.post("/v1/predict", json=HOUSE)
        assert r.status_code == 200 and r.json()["variant"] == "champion"
        svc = c.app.state.service  # type: ignore[attr-defined]
        svc._shadow_pool.submit(lambda: None).result(10)  # wait for the shadow queue
        # shipped to the database (a loaded CI machine can take more than flush's default)
        assert c.app.state.predlog.flush(60)  # type: ignore[attr-defined]
        rows = read_recent(c.app.state.predlog.engine)  # type: ignore[attr-defined]
        assert len(rows) == 1  # read_recent hides shadow rows; the shadow row exists:
        import sqlalchemy as sa

        from prices_predictor.store.predictions import predictions

        with c.app.state.predlog.engine.connect() as conn:  # type: ignore[attr-defined]
            shadow = conn.execute(sa.select(predictions).where(predictions.c.shadow)).all()
        assert len(shadow) == 1 and shadow[0].variant == "challenger"
        # break the challenger: requests still answer, the failure is counted
        challenger = c.app.state.holder.get("challenger")  # type: ignore[attr-defined]

        def boom(*_: object) -> None:
            raise RuntimeError("challenger exploded")

        challenger.model.predict_log = boom
        for _ in range(5):
            assert c.post("/v1/predict", json=HOUSE).status_code == 200
        svc._shadow_pool.submit(lambda: None).result(10)
        assert 'pp_shadow_total{result="error"} 5.0' in c.get("/metrics").text


def test_cli_ab_start_report_promote(registry_home: Path, trained_home: dict[str, str]) -> None:
    env = {**trained_home, "PP_HOME": str(registry_home)}
    proc = run_cli(["ab", "start", "--challenger", "2", "--weight", "0.25"], env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "25% of clients" in proc.stdout
    for c in app_client(registry_home):
        assert c.get("/v1/ab/report").json()["experiment"]["weight"] == 0.25
    proc = run_cli(["ab", "report"], env, timeout=120)
    assert proc.returncode == 0 and "verdict" in proc.stdout
    proc = run_cli(["ab", "promote"], env, timeout=120)
    assert proc.returncode == 0 and "v2 is now champion" in proc.stdout
    models = run_cli(["models", "--json"], env, timeout=120).stdout
    assert '"champion"' in models
