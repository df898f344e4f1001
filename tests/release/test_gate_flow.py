"""The gate and alias flow through the CLI, on the sqlite default and on a real mlflow server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import base_env, run_cli
from tests.servers import mlflow_server

pytestmark = pytest.mark.slow

WEAK = {"linear": {"alpha": 3000.0}}
GOOD = {"linear": {"alpha": 30.0}}


def _env(tmp: Path, small_csv: Path) -> dict[str, str]:
    weak, good = tmp / "weak.json", tmp / "good.json"
    weak.write_text(json.dumps(WEAK))
    good.write_text(json.dumps(GOOD))
    return base_env(
        tmp / "pp", PP_DATA=str(small_csv), PP_MODEL="linear", WEAK=str(weak), GOOD=str(good)
    )


@pytest.fixture()
def env(tmp_path: Path, small_csv: Path) -> dict[str, str]:
    """The default registry: MLflow on SQLite under PP_HOME."""
    return _env(tmp_path, small_csv)


@pytest.fixture()
def server_env(tmp_path: Path, small_csv: Path) -> Iterator[dict[str, str]]:
    """The same flow against a real `mlflow server` (what compose and k8s run)."""
    with mlflow_server(tmp_path / "mlflow") as url:
        yield {**_env(tmp_path, small_csv), "PP_MLFLOW_TRACKING_URI": url}


def train(env: dict[str, str], params: str, *extra: str, **overrides: str) -> tuple[int, str]:
    proc = run_cli(["train", *extra], {**env, "PP_PARAMS_FILE": env[params], **overrides})
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout + proc.stderr


def aliases(env: dict[str, str]) -> dict[str, list[str]]:
    proc = run_cli(["models", "--json"], env, check=True)
    return {r["version"]: r["aliases"] for r in json.loads(proc.stdout)}


def versions(env: dict[str, str]) -> dict[str, dict[str, object]]:
    proc = run_cli(["models", "--json"], env, check=True)
    return {r["version"]: r for r in json.loads(proc.stdout)}


@pytest.mark.long  # five trainings through every gate: a drill for make test-slow
def test_gate_matrix_and_rollback(env: dict[str, str]) -> None:
    # 1. no champion yet -> promoted
    code, out = train(env, "WEAK")
    assert code == 0 and "PROMOTED" in out
    assert aliases(env)["1"] == ["champion"]
    # 2. equal to the champion -> challenger, exit 3
    code, out = train(env, "WEAK")
    assert code == 3 and "CHALLENGER" in out
    assert aliases(env)["2"] == ["challenger"]
    # 3. better -> promoted; old champion becomes previous
    code, out = train(env, "GOOD")
    assert code == 0 and "PROMOTED" in out
    a = aliases(env)
    assert a["3"] == ["champion"] and a["1"] == ["previous"]
    # 4. worse -> challenger
    code, _ = train(env, "WEAK")
    assert code == 3 and aliases(env)["4"] == ["challenger"]
    # 5. below the threshold -> rejected, no alias
    code, out = train(env, "GOOD", PP_GATE_MAX_RMSE="0.01")
    assert code == 3 and "REJECTED" in out
    v = versions(env)
    assert v["5"]["aliases"] == [] and v["5"]["verdict"] == "rejected"
    assert v["3"]["verdict"] == "promoted" and v["3"]["metrics"]["rmse"] < v["1"]["metrics"]["rmse"]
    # rollback: champion := previous, recorded; a second rollback has nothing left
    proc = run_cli(["rollback"], env)
    assert proc.returncode == 0 and "champion 3 -> 1" in proc.stdout
    assert aliases(env)["1"] == ["champion"]
    proc = run_cli(["rollback"], env)
    assert proc.returncode == 2 and "no previous champion" in proc.stderr
    # forced promotion skips the gates and records who
    proc = run_cli(["promote", "--version", "4", "--force", "--reason", "hotfix"], env)
    assert proc.returncode == 0 and "forced by" in proc.stdout
    v = versions(env)
    assert v["4"]["aliases"] == ["champion"] and v["4"]["forced_by"]
    assert v["1"]["aliases"] == ["previous"]
    # gated promotion of a version no better than the champion: exit 3, the champion stays
    proc = run_cli(["deploy", "--version", "2"], env)
    assert proc.returncode == 3 and "CHALLENGER" in proc.stdout
    a = aliases(env)
    assert a["4"] == ["champion"] and a["1"] == ["previous"] and a["2"] == ["challenger"]
    # every run went to the configured experiment
    out = runs_per_experiment(env)
    assert out["prices_predictor"] == 5 and out["Default"] == 0
    # the table lists every version
    table = run_cli(["models"], env, check=True).stdout
    assert "champion" in table and "rejected" in table


def runs_per_experiment(env: dict[str, str]) -> dict[str, int]:
    """Runs per experiment, read with MLflow's own client from another process."""
    import subprocess
    import sys

    uri = env.get("PP_MLFLOW_TRACKING_URI") or f"sqlite:///{env['PP_HOME']}/mlflow.db"
    code = (
        "import json, mlflow\n"
        "from mlflow import MlflowClient\n"
        f"mlflow.set_tracking_uri({uri!r})\n"
        "c = MlflowClient()\n"
        "print(json.dumps({e.name: len(c.search_runs([e.experiment_id]))"
        " for e in c.search_experiments()}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.long  # the same flow as above on another store: in make test-slow
def test_promotion_and_rollback_on_a_tracking_server(server_env: dict[str, str]) -> None:
    env = server_env
    code, out = train(env, "WEAK")
    assert code == 0 and "PROMOTED" in out
    code, out = train(env, "GOOD")
    assert code == 0 and "PROMOTED" in out
    a = aliases(env)
    assert a["2"] == ["champion"] and a["1"] == ["previous"]
    proc = run_cli(["rollback"], env)
    assert proc.returncode == 0 and "champion 2 -> 1" in proc.stdout
    assert aliases(env)["1"] == ["champion"]
    out = runs_per_experiment(env)
    assert out["prices_predictor"] == 2 and out["Default"] == 0
