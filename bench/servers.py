"""The servers the bench compares, started as a user would start them, one at a time."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ops.procs import free_port, stop_process, wait_http

BIN = Path(sys.executable).parent
COLD_POLL_S = 0.02  # cold starts are measured by polling readiness this often
SETTLE_S = 3.0  # ours opens the explainer and compiles batch kernels once ready


def commands(
    home: Path, env: dict[str, str], tmp: Path
) -> dict[str, tuple[list[str], dict[str, str], str]]:
    """name -> (command with {port}, environment, readiness path)."""
    ours_env = {
        **env,
        "PP_MODEL_URI": str(home / "bundle"),
        "PP_LOG_LEVEL": "WARNING",
        # a fresh prediction log per run: numbers must not depend on how often bench ran
        "PP_PREDICTION_DB_URL": f"sqlite:///{tmp / 'predictions.db'}",
        "PP_MAX_BODY_BYTES": str(200 << 20),
    }
    mlflow = [str(BIN / "mlflow"), "models", "serve", "-m", str(home / "bundle" / "model")]
    mlflow += ["--env-manager", "local", "-h", "127.0.0.1", "-p", "{port}"]
    bare = [str(BIN / "uvicorn"), "bench.bare_app:app", "--port", "{port}"]
    bare += ["--log-level", "warning", "--no-access-log"]
    return {
        "ours": (
            [sys.executable, "-m", "prices_predictor.cli", "serve", "--port", "{port}"],
            ours_env,
            "/ready",
        ),
        "mlflow": (mlflow, {**env, "PATH": f"{BIN}:{os.environ['PATH']}"}, "/ping"),
        "bare": (bare, env, "/docs"),
    }


@contextlib.contextmanager
def serving(
    cmd: list[str], env: dict[str, str], ready: str, log: Path
) -> Iterator[tuple[str, float]]:
    """(base URL, seconds from process start to the first 200 on ``ready``)."""
    port = free_port()
    proc = subprocess.Popen(
        [c.replace("{port}", str(port)) for c in cmd],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        startup = wait_http(f"{url}{ready}", 120, proc, poll_s=COLD_POLL_S)
        time.sleep(SETTLE_S)
        yield url, startup
    finally:
        stop_process(proc, 30)


def first_start(home: Path, env: dict[str, str], tmp: Path) -> float:
    """Our cold start with an empty kernel cache (a machine's very first start); afterwards
    the cache is filled, as the Docker image does at build time."""
    cmd, ours_env, ready = commands(home, env, tmp)["ours"]
    first = {**ours_env, "PP_KERNEL_CACHE_DIR": str(tmp / "empty-kernel-cache")}
    with serving(cmd, first, ready, tmp / "first.log") as (_, startup):
        pass
    subprocess.run(
        [sys.executable, "-m", "prices_predictor.models.scoring.kernel"], env=ours_env, check=True
    )
    return startup
