"""Real local servers for tests: mlflow server, our API (uvicorn), with bounded waits."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ops.procs import free_port, stop_process, wait_http
from tests.conftest import ROOT

BIN = Path(sys.executable).parent


@contextlib.contextmanager
def process(
    argv: list[str],
    env: dict[str, str],
    log_path: Path,
    ready_url: str,
    timeout: float = 90,
    cwd: Path = ROOT,
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process in its own session, logged to a file, ready when ``ready_url`` is 200."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=cwd
        )
        try:
            wait_http(ready_url, timeout, proc)
            yield proc
        finally:
            stop_process(proc)


@contextlib.contextmanager
def mlflow_server(
    workdir: Path, backend: str | None = None, port: int | None = None
) -> Iterator[str]:
    """``mlflow server`` on 127.0.0.1 (``backend``: a store URI; default a new SQLite one)."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    url = f"http://127.0.0.1:{port}"
    argv = [
        str(BIN / "mlflow"),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        backend or f"sqlite:///{workdir}/server.db",
        "--artifacts-destination",
        str(workdir / "artifacts"),
        "--workers",
        "1",
    ]
    with process(argv, env, workdir / "mlflow-server.log", f"{url}/health", cwd=workdir):
        yield url


@contextlib.contextmanager
def api_server(
    env: dict[str, str],
    log_path: Path,
    extra_args: tuple[str, ...] = (),
    ready_path: str = "/ready",
    timeout: float = 90,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``prices-predictor serve`` on a free port, yielded once ``ready_path`` answers 200."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "prices_predictor.cli", "serve", "--port", str(port), *extra_args]
    with process(argv, env, log_path, f"{url}{ready_path}", timeout) as proc:
        yield url, proc


@contextlib.contextmanager
def postgres_server(workdir: Path) -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (the same code `make stack` uses)."""
    import shutil
    import tempfile

    from ops import postgres

    # in /tmp, not pytest's private dir: the server runs as the 'postgres' user
    base = Path(tempfile.mkdtemp(prefix="pp-pg-"))
    try:
        yield postgres.start(base, free_port(), db="postgres")
    finally:
        postgres.stop(base)
        shutil.rmtree(base, ignore_errors=True)
        del workdir


@contextlib.contextmanager
def redis_server(
    workdir: Path, port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A private redis-server on 127.0.0.1 with append-only persistence in ``workdir``."""
    from ops import redis

    url, proc = redis.start(workdir, port or free_port(), workdir / "redis.log")
    try:
        yield url, proc
    finally:
        stop_process(proc)


@contextlib.contextmanager
def job_worker(
    env: dict[str, str], log_path: Path, *args: str, timeout: float = 90
) -> Iterator[subprocess.Popen[bytes]]:
    """``prices-predictor worker`` yielded once it listens on its queue."""
    argv = [sys.executable, "-m", "prices_predictor.cli", "worker", *args]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
        )
    try:
        deadline = time.monotonic() + timeout
        while b"Listening on" not in log_path.read_bytes():
            if proc.poll() is not None:
                if "--burst" in args:
                    break
                raise RuntimeError(f"worker exited with {proc.returncode}: {log_path.read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker not listening after {timeout}s")
            time.sleep(0.1)
        yield proc
    finally:
        stop_process(proc)
