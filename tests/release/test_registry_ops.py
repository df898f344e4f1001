"""Alias moves under concurrency, unreachable servers, and MLflow's own model server."""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from ops.procs import free_port
from prices_predictor.core.settings import Settings
from prices_predictor.release import aliases
from prices_predictor.tracking.mlflow_env import configure
from prices_predictor.tracking.registry import alias_version, client
from tests.conftest import base_env, private_home, run_cli
from tests.servers import BIN, process


def test_unreachable_tracking_server_fails_fast(tmp_path: Path) -> None:
    env = base_env(
        tmp_path / "pp",
        PP_MLFLOW_TRACKING_URI=f"http://127.0.0.1:{free_port()}",
        PP_MLFLOW_TIMEOUT_S="3",
    )
    t0 = time.monotonic()
    for args in (["models"], ["rollback"], ["deploy", "--version", "1"]):
        proc = run_cli(args, env, timeout=60)
        assert proc.returncode == 2, args
        assert "unreachable" in proc.stderr and "Traceback" not in proc.stderr
    assert time.monotonic() - t0 < 60


def test_concurrent_promotions_leave_one_champion(
    trained_home: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a private copy of the trained registry, with extra versions of the same model
    home = tmp_path / "pp"
    private_home(trained_home, home, "zenml")
    monkeypatch.setenv("PP_HOME", str(home))
    s = Settings()
    configure(s)
    c = client()
    src = c.get_model_version(s.model_name, "1")
    for _ in range(4):
        c.create_model_version(s.model_name, src.source, run_id=src.run_id)
    errors: list[BaseException] = []

    def worker(v: str) -> None:
        try:
            for _ in range(3):
                aliases.promote(s, v, reason="race")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(str(v),)) for v in range(2, 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    champ = alias_version(s.model_name, "champion")
    prev = alias_version(s.model_name, "previous")
    assert champ in {"2", "3", "4", "5"}
    assert prev is not None and prev != champ
    rm = c.get_registered_model(s.model_name)
    assert str(rm.aliases["champion"]) == champ
    history = rm.tags[aliases.HISTORY_TAG].split(",")
    assert history[-1] == prev  # the history and the aliases agree: no lost update
    assert all(a != b for a, b in itertools.pairwise(history))


@pytest.mark.slow
def test_champion_serves_with_mlflow_models_serve(
    trained_home: dict[str, str],
    small_ames: pd.DataFrame,
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{trained_home['PP_HOME']}/mlflow.db",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    argv = [
        str(BIN / "mlflow"),
        "models",
        "serve",
        "-m",
        "models:/prices_predictor@champion",
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    with process(argv, env, tmp_path / "serve.log", f"http://127.0.0.1:{port}/ping", 120):
        rows = small_ames.drop(columns=["SalePrice", "Order", "PID"]).head(5)
        payload = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
        r = httpx.post(f"http://127.0.0.1:{port}/invocations", json=payload, timeout=30)
        assert r.status_code == 200, r.text
        preds = r.json()["predictions"]
        assert len(preds) == 5
        ratio = [p / y for p, y in zip(preds, small_ames["SalePrice"].head(5), strict=True)]
        assert all(0.5 < q < 2 for q in ratio)
