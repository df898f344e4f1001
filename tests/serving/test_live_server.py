"""The real server (uvicorn via the CLI) on the registry: hot reload, failed reload, shutdown."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from prices_predictor.core.settings import Settings
from prices_predictor.store.predictions import predictions
from prices_predictor.tracking.mlflow_env import configure
from prices_predictor.tracking.registry import client
from tests.conftest import private_home
from tests.servers import api_server

pytestmark = pytest.mark.slow
TOKEN = "live-token"


def _shipping_story(stored: int, sent: int, log: str, journal: Path) -> str:
    """What the server said about its prediction log, for a failure to be explained."""
    said = [line for line in log.splitlines() if "journal" in line or "prediction log" in line]
    left = sorted((p.name, p.stat().st_size) for p in journal.glob("*.journal"))
    return f"{stored} of {sent} stored; journal left: {left}\n" + "\n".join(said[-20:])


def _wait_version(url: str, version: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = httpx.get(f"{url}/v1/model", timeout=5)
        if r.status_code == 200 and r.json()["version"] == version:
            return
        time.sleep(0.2)
    raise TimeoutError(f"server did not switch to version {version}")


def test_hot_reload_failed_reload_and_graceful_shutdown(
    trained_home: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "pp"
    env = {
        **private_home(trained_home, home, "zenml", "serving"),
        "PP_RELOAD_INTERVAL_S": "0.5",
        "PP_ADMIN_TOKEN": TOKEN,
        "PP_CACHE_SIZE": "0",
    }
    monkeypatch.setenv("PP_HOME", str(home))
    s = Settings()
    configure(s)
    c = client()
    with api_server(env, tmp_path / "api.log") as (url, proc):
        _wait_version(url, "1")
        # the batch kernel is compiled in the background once the model serves (empty cache)
        cache, deadline = home / "numba-cache", time.monotonic() + 60
        while not list(cache.rglob("*score_qs*.nbi")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list(cache.rglob("*score_qs*.nbi"))
        sent = 0
        for i in range(20):
            r = httpx.post(f"{url}/v1/predict", json={"gr_liv_area": 1200 + i}, timeout=10)
            assert r.status_code == 200 and r.headers["x-model-version"] == "1"
            sent += 1
        # promote a new version: the running server picks it up without a restart
        src = c.get_model_version(s.model_name, "1")
        v2 = c.create_model_version(s.model_name, src.source, run_id=src.run_id).version
        c.set_registered_model_alias(s.model_name, "champion", v2)
        _wait_version(url, str(v2))
        # a version that cannot load: the old model keeps serving, the failure is counted
        v3 = c.create_model_version(
            s.model_name, str(tmp_path / "nowhere"), run_id=src.run_id
        ).version
        c.set_registered_model_alias(s.model_name, "champion", v3)
        r = httpx.post(
            f"{url}/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        )
        assert r.status_code == 200 and r.json()["result"]["champion"].startswith("error")
        r = httpx.post(f"{url}/v1/predict", json={"gr_liv_area": 1500}, timeout=10)
        assert r.status_code == 200 and r.headers["x-model-version"] == str(v2)
        sent += 1
        metrics = httpx.get(f"{url}/metrics", timeout=5).text
        assert 'pp_model_reloads_total{result="failure"}' in metrics
        for i in range(30):
            r = httpx.post(f"{url}/v1/predict", json={"gr_liv_area": 2000 + i}, timeout=10)
            assert r.status_code == 200, r.text
            sent += 1
        os.killpg(proc.pid, signal.SIGTERM)  # graceful: the queue is flushed before exit
        proc.wait(30)
    engine = sa.create_engine(f"sqlite:///{home}/predictions.db")
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(predictions)).scalar()
    log = (tmp_path / "api.log").read_text()
    assert stored == sent, _shipping_story(stored, sent, log, home / "journal")
    assert '"message":"request"' in log and '"latency_ms"' in log
