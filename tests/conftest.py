"""Shared fixtures: isolated PP_HOME per test, small Ames samples, one trained registry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from prices_predictor.spec.io import preset

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "prices_predictor.cli"]

# Apps built in this process share its heap: they must not freeze it (PP_GC_FREEZE); servers
# started as subprocesses (base_env drops PP_ variables) run with the default, on.
IN_PROCESS_ENV = {"PP_GC_FREEZE": "false"}


@pytest.fixture(autouse=True)
def _in_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in IN_PROCESS_ENV.items():
        monkeypatch.setenv(k, v)


AMES = preset("ames")  # the spec of the bundled data

# Small but real models: trees with few rounds, so fitting takes a second.
FAST_PARAMS = {
    "xgboost": {"n_estimators": 150, "learning_rate": 0.08},
    "lightgbm": {"n_estimators": 150, "learning_rate": 0.08},
    "random_forest": {"n_estimators": 40},
    "catboost": {"iterations": 60},  # a candidate in every blend trained here
}


@pytest.fixture(scope="session")
def ames() -> pd.DataFrame:
    import dabl

    return dabl.datasets.load_ames()


@pytest.fixture(scope="session")
def small_ames(ames: pd.DataFrame) -> pd.DataFrame:
    return ames.sample(900, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("session")


@pytest.fixture(scope="session")
def small_csv(small_ames: pd.DataFrame, session_dir: Path) -> Path:
    path = session_dir / "small_ames.csv"
    small_ames.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def fast_params_file(session_dir: Path) -> Path:
    path = session_dir / "fast_params.json"
    path.write_text(json.dumps(FAST_PARAMS))
    return path


def base_env(home: Path, params_file: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PP_", "MLFLOW_", "ZENML_"))}
    env.update(
        PP_HOME=str(home),
        PP_CV_FOLDS="3",
        PP_GATE_MAX_RMSE="0.3",
        PP_GATE_MIN_R2="0.5",
        PP_RELOAD_INTERVAL_S="0",
        MLFLOW_DISABLE_TELEMETRY="true",
        ZENML_ANALYTICS_OPT_IN="false",
        PYTHONUNBUFFERED="1",
    )
    if params_file is not None:
        env["PP_PARAMS_FILE"] = str(params_file)
    env.update(extra)
    return env


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 600, check: bool = False
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture()
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh PP_HOME for this test, in this process."""
    from prices_predictor.core.settings import get_settings

    for k in list(os.environ):
        if k.startswith("PP_"):
            monkeypatch.delenv(k)
    for k, v in IN_PROCESS_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("PP_HOME", str(tmp_path / "pp"))
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    get_settings.cache_clear()
    yield tmp_path / "pp"
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def trained_home(session_dir: Path, small_csv: Path, fast_params_file: Path) -> dict[str, str]:
    """A PP_HOME whose registry holds one champion (xgboost on 900 Ames rows), via the CLI."""
    env = base_env(session_dir / "trained", fast_params_file)
    run_cli(["train", "--data", str(small_csv), "--model", "xgboost"], env, check=True)
    return env


def private_home(trained_home: dict[str, str], dest: Path, *skip: str) -> dict[str, str]:
    """A private copy of the trained PP_HOME (without the ``skip`` entries) and its env."""
    shutil.copytree(trained_home["PP_HOME"], dest, ignore=shutil.ignore_patterns(*skip))
    return {**trained_home, "PP_HOME": str(dest)}


@pytest.fixture(scope="session")
def bundle_dir(trained_home: dict[str, str], session_dir: Path) -> Path:
    out = session_dir / "bundle"
    run_cli(["export", "--out", str(out)], trained_home, check=True)
    return out


def logged(features: list[dict[str, object]], prefix: str = "r") -> list[dict[str, object]]:
    """Prediction-log rows for these inputs, as the service would queue them."""
    return [
        {
            "request_id": f"{prefix}{i}",
            "row": 0,
            "model_name": "prices_predictor",
            "model_version": "1",
            "variant": "champion",
            "shadow": False,
            "features": {k: v for k, v in f.items() if v is not None},
            "price": 100.0 + i,
            "price_low": 90.0,
            "price_high": 110.0,
            "latency_ms": 1.0,
        }
        for i, f in enumerate(features)
    ]


pytest_plugins = ["tests.serving.fixtures", "tests.other_data"]

# fixtures that train through the CLI or start servers: their tests are end-to-end (``e2e``),
# left out of ``make test-fast``
E2E_FIXTURES = frozenset({"trained_home", "bundle_dir", "other_homes", "client"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)
