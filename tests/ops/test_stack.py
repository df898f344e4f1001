"""`make stack` end to end: PostgreSQL, mlflow server, trainer, API and Prometheus as processes."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from ops.procs import free_port
from ops.stack import Ports, Stack
from prices_predictor.store.predictions import predictions
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.long]  # the whole stack up: about 1.5 minutes


@pytest.fixture()
def stack(
    tmp_path: Path, small_csv: Path, fast_params_file: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stack]:
    for k, v in {
        "PP_DATA": str(small_csv),
        "PP_MODEL": "xgboost",
        "PP_CV_FOLDS": "3",
        "PP_PARAMS_FILE": str(fast_params_file),
        "PP_GATE_MAX_RMSE": "0.3",
        "PP_GATE_MIN_R2": "0.5",
    }.items():
        monkeypatch.setenv(k, v)
    s = Stack(
        tmp_path / "pp",
        Ports(free_port(), free_port(), free_port(), free_port(), free_port()),
        root=ROOT,
        scrape_interval="1s",
        reload_interval_s=0.5,
    )
    s.up()
    try:
        yield s
    finally:
        s.down()


def _until(check, timeout: float = 30):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def test_stack_serves_scrapes_reloads_and_loses_nothing(stack: Stack) -> None:
    sent = 0
    for i in range(15):
        r = httpx.post(
            f"{stack.api_url}/v1/predict", json={"gr_liv_area": 1000 + 50 * i}, timeout=10
        )
        assert r.status_code == 200 and r.headers["x-model-version"] == "1"
        sent += 1

    def prom(query: str) -> float | None:
        r = httpx.get(f"{stack.prometheus_url}/api/v1/query", params={"query": query}, timeout=5)
        res = r.json()["data"]["result"]
        return float(res[0]["value"][1]) if res else None

    assert _until(lambda: prom('up{job="api"}') == 1.0)
    assert _until(lambda: (prom('sum(pp_requests_total{route="/v1/predict"})') or 0) > 0)
    # promote a new version on the mlflow server: the running API switches without restart
    from mlflow import MlflowClient

    c = MlflowClient(tracking_uri=stack.mlflow_url, registry_uri=stack.mlflow_url)
    src = c.get_model_version("prices_predictor", "1")
    import mlflow

    # the process-wide URIs go back afterwards: later tests in this process (make test-slow)
    # must not resolve models:/ against this stack's server once it is stopped
    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    mlflow.set_tracking_uri(stack.mlflow_url)
    mlflow.set_registry_uri(stack.mlflow_url)
    try:
        v2 = mlflow.register_model(src.source, "prices_predictor").version
    finally:
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])
    c.set_registered_model_alias("prices_predictor", "champion", v2)

    def served() -> bool:
        r = httpx.get(f"{stack.api_url}/v1/model", timeout=5)
        return r.status_code == 200 and r.json()["version"] == str(v2)

    assert _until(served, 60)
    for _ in range(10):
        r = httpx.post(f"{stack.api_url}/v1/predict", json={"gr_liv_area": 1500}, timeout=10)
        assert r.headers["x-model-version"] == str(v2)
        sent += 1
    # a job through the stack's Redis and worker (supervised: killed, it comes back)
    job_id = _job(stack, b"Gr Liv Area,Overall Qual\n1500,7\n2100,8\n")
    done = _until(lambda: _job_state(stack, job_id) == "finished", 120)
    assert done, httpx.get(f"{stack.api_url}/v1/jobs/{job_id}").text
    r = httpx.get(f"{stack.api_url}/v1/jobs/{job_id}/result?format=csv", timeout=10)
    assert r.text.splitlines()[0] == "price,price_low,price_high" and len(r.text.splitlines()) == 3
    _kill_worker(stack)
    job_id = _job(stack, b"Gr Liv Area\n1200\n")
    assert _until(lambda: _job_state(stack, job_id) == "finished", 120)
    # graceful stop of the API: every acknowledged prediction is in PostgreSQL
    stack.stop_service("api")
    engine = sa.create_engine(stack.db_url)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(predictions)).scalar()
    engine.dispose()
    assert stored == sent
    pids = dict(stack.pids)
    stack.down()
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)


def _job(stack: Stack, body: bytes) -> str:
    r = httpx.post(
        f"{stack.api_url}/v1/jobs", content=body, headers={"content-type": "text/csv"}, timeout=10
    )
    assert r.status_code == 202, r.text
    job_id: str = r.json()["id"]
    return job_id


def _job_state(stack: Stack, job_id: str) -> str:
    state: str = httpx.get(f"{stack.api_url}/v1/jobs/{job_id}", timeout=10).json()["state"]
    return state


def _kill_worker(stack: Stack) -> None:
    """kill -9 the worker under the supervisor (the supervisor's child)."""
    import signal
    import subprocess

    sup = stack.pids["worker"]
    kids = subprocess.run(["pgrep", "-P", str(sup)], capture_output=True, text=True).stdout.split()
    assert len(kids) == 1, kids
    os.kill(int(kids[0]), signal.SIGKILL)
