"""Failure drills on real processes: the server is killed, its database stopped, its champion
swapped and its registry unreachable, under load; then a soak of mixed traffic.

Every drill checks what a client was promised: each prediction answered 200 is in the log,
exactly once; nothing answered 5xx that should not be.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from ops import postgres
from ops.procs import free_port
from prices_predictor.store.predictions import predictions
from tests.conftest import base_env, private_home, run_cli
from tests.load import Answer, Load, percentile, rss_bytes, settled_rss
from tests.servers import api_server, mlflow_server

pytestmark = pytest.mark.slow
MIX = ["single", "single", "batch"]


def _until(cond: Callable[[], bool], timeout: float, what: str, poll: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(poll)
    raise TimeoutError(f"{what} within {timeout:.0f} s")


def _logged(db_url: str) -> Counter[tuple[str, int]]:
    """(request id, row) -> times stored, for every non-shadow prediction in the log."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            q = sa.select(predictions.c.request_id, predictions.c.row).where(
                predictions.c.shadow.is_(False)
            )
            return Counter((rid, row) for rid, row in conn.execute(q))
    except sa.exc.OperationalError:  # the tables do not exist yet
        return Counter()
    finally:
        engine.dispose()


def _expected(answers: list[Answer]) -> set[tuple[str, int]]:
    return {(a.request_id, r) for a in answers if a.status == 200 for r in range(a.rows)}


def _all_logged(db_url: str, acked: set[tuple[str, int]]) -> Callable[[], bool]:
    return lambda: acked <= set(_logged(db_url))


def _bundle_env(home: Path, bundle: Path, **extra: str) -> dict[str, str]:
    return base_env(home, PP_MODEL_URI=str(bundle), PP_CACHE_SIZE="0", **extra)


def test_kill_9_under_load_loses_no_acknowledged_prediction(
    bundle_dir: Path, tmp_path: Path
) -> None:
    home = tmp_path / "pp"
    env = _bundle_env(home, bundle_dir)
    db_url = f"sqlite:///{home}/predictions.db"
    with api_server(env, tmp_path / "api-1.log") as (url, proc):
        with Load(url, MIX, "kill") as load:
            _until(lambda: load.count() >= 400, 60, "400 answers")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
            _until(lambda: any(a.status == -1 for a in load.answers), 10, "a refused request")
        answers = load.stop()
    acked = _expected(answers)
    assert len(acked) >= 400
    # a new process on the same PP_HOME ships what the killed one journaled, without a restart
    # of anything else and without help from the client
    with api_server(env, tmp_path / "api-2.log") as (url, _):
        _until(_all_logged(db_url, acked), 60, "every acknowledged row in the log")
    stored = _logged(db_url)
    assert acked <= set(stored)
    assert max(stored.values()) == 1  # none twice


@pytest.fixture()
def pg_cluster() -> Iterator[tuple[Path, int, str]]:
    base = Path(tempfile.mkdtemp(prefix="pp-pg-"))  # /tmp: the server runs as 'postgres'
    port = free_port()
    try:
        yield base, port, postgres.start(base, port, db="pp")
    finally:
        postgres.stop(base)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.long  # a 30-second outage under load: make test-slow
def test_postgresql_down_for_30_s_under_load(
    bundle_dir: Path, tmp_path: Path, pg_cluster: tuple[Path, int, str]
) -> None:
    base, port, db_url = pg_cluster
    env = _bundle_env(tmp_path / "pp", bundle_dir, PP_PREDICTION_DB_URL=db_url)
    with api_server(env, tmp_path / "api.log") as (url, proc), Load(url, MIX, "pg") as load:
        # the baseline once the server's background preload (batch kernels, explanations:
        # tens of MB) is done: on a loaded machine RSS can pause before it ends
        _until(lambda: httpx.get(f"{url}/ready", timeout=10).json()["preloaded"], 120, "preload")
        rss_before = settled_rss(proc.pid)
        postgres.stop(base)
        down_until = time.monotonic() + 30
        peak, backlog = rss_before, 0.0
        while time.monotonic() < down_until:
            time.sleep(1)
            peak = max(peak, rss_bytes(proc.pid))
            backlog = max(backlog, _metric(url, "pp_prediction_log_backlog_rows"))
        postgres.start(base, port, db="pp")
        time.sleep(5)
        answers = load.stop()
        acked = _expected(answers)
        _until(_all_logged(db_url, acked), 60, "every acknowledged row in PostgreSQL")
        _until(lambda: _metric(url, "pp_prediction_log_backlog_rows") == 0, 30, "no backlog")
        assert _metric(url, "pp_prediction_log_ship_failures_total") >= 1
    outage = [a for a in answers if a.started > down_until - 30 and a.started < down_until]
    assert len(outage) > 100  # traffic went on during the outage...
    assert {a.status for a in answers} == {200}  # ...and every prediction was answered
    assert backlog > 100  # the rows waited in the journal
    assert max(_logged(db_url).values()) == 1
    assert peak < rss_before * 1.10, (rss_before, peak)  # not in memory: bounded


def _metric(url: str, name: str) -> float:
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


def test_promote_and_roll_back_under_load(
    trained_home: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "pp"
    env = {
        **private_home(trained_home, home, "serving"),
        "PP_RELOAD_INTERVAL_S": "0.5",
        "PP_CACHE_SIZE": "0",
    }
    _second_version(home, monkeypatch)
    with api_server(env, tmp_path / "api.log") as (url, _), Load(url, MIX, "swap") as load:
        time.sleep(2)
        run_cli(["promote", "--version", "2", "--force", "--reason", "drill"], env, check=True)
        _until(lambda: _served(load, "2"), 30, "version 2 served")
        time.sleep(2)
        mark = time.monotonic()
        run_cli(["rollback"], env, check=True)
        _until(lambda: _served(load, "1", after=mark), 30, "version 1 served again")
        time.sleep(1)
        answers = load.stop()
    assert {a.status for a in answers} == {200}, Counter(a.status for a in answers)
    assert {a.version for a in answers} == {"1", "2"}


def _served(load: Load, version: str, after: float = 0.0) -> bool:
    return any(a.version == version and a.started > after for a in list(load.answers))


def _second_version(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Version 2: the same model registered again (what a retrain would add)."""
    from prices_predictor.core.settings import Settings
    from prices_predictor.tracking.mlflow_env import configure
    from prices_predictor.tracking.registry import client

    monkeypatch.setenv("PP_HOME", str(home))
    s = Settings()
    configure(s)
    c = client()
    src = c.get_model_version(s.model_name, "1")
    c.create_model_version(s.model_name, src.source, run_id=src.run_id)


def test_registry_unreachable_at_start_then_ready_without_restart(
    trained_home: dict[str, str], tmp_path: Path
) -> None:
    home = tmp_path / "pp"
    port = free_port()  # nothing listens there yet
    env = {
        **private_home(trained_home, home, "serving"),
        "PP_MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}",
    }
    with api_server(env, tmp_path / "api.log", ready_path="/health") as (url, proc):
        # "loading" until the first attempt to reach the registry has failed
        _until(lambda: httpx.get(f"{url}/ready").json().get("reason") != "loading", 30, "a reason")
        r = httpx.get(f"{url}/ready", timeout=10)
        assert r.status_code == 503
        assert f"127.0.0.1:{port}" in r.json()["reason"] or "onnect" in r.json()["reason"]
        r = httpx.post(f"{url}/v1/predict", json={"gr_liv_area": 1500}, timeout=10)
        assert r.status_code == 503 and r.headers["retry-after"]
        # the registry comes up (same store): the server becomes ready by itself
        backend = f"sqlite:///{home}/mlflow.db"
        with mlflow_server(tmp_path / "mlflow", backend=backend, port=port):
            _until(lambda: httpx.get(f"{url}/ready").status_code == 200, 60, "ready")
            r = httpx.post(f"{url}/v1/predict", json={"gr_liv_area": 1500}, timeout=10)
            assert r.status_code == 200 and r.headers["x-model-version"] == "1"
        assert proc.poll() is None


def soak(bundle_dir: Path, tmp_path: Path, seconds: float) -> None:
    """Mixed traffic for ``seconds``: 0 5xx, memory flat and p99 stable after the warm-up."""
    env = base_env(tmp_path / "pp", PP_MODEL_URI=str(bundle_dir))
    mix = ["single"] * 6 + ["batch"] * 2 + ["explain", "invalid"]
    warmup = seconds / 4
    with api_server(env, tmp_path / "api.log") as (url, proc), Load(url, mix, "soak") as load:
        t0 = time.monotonic()
        time.sleep(warmup)
        rss_warm = settled_rss(proc.pid)
        while time.monotonic() - t0 < seconds:
            time.sleep(1)
        rss_end = rss_bytes(proc.pid)
        answers = load.stop()
    expected = {"single": 200, "batch": 200, "explain": 200, "invalid": 422}
    wrong = Counter((a.kind, a.status) for a in answers if a.status != expected[a.kind])
    assert not wrong, wrong
    assert rss_end < rss_warm * 1.10, (rss_warm, rss_end)
    served = [a for a in answers if a.kind != "invalid" and a.started >= t0 + warmup]
    mid = t0 + warmup + (seconds - warmup) / 2
    first = [a.latency_s for a in served if a.started < mid]
    second = [a.latency_s for a in served if a.started >= mid]
    p99_first, p99_second = percentile(first, 0.99), percentile(second, 0.99)
    assert p99_second < 2 * p99_first + 0.02, (p99_first, p99_second)


@pytest.mark.long
def test_soak_five_minutes_of_mixed_traffic(bundle_dir: Path, tmp_path: Path) -> None:
    soak(bundle_dir, tmp_path, 300)
