"""Real local servers for tests: mlflow server, our API (uvicorn), with bounded waits."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import ROOT, free_port

BIN = Path(sys.executable).parent


def wait_http(
    url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None, status: int = 200
) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            r = httpx.get(url, timeout=2)
            if r.status_code == status:
                return
            last = f"HTTP {r.status_code}: {r.text[:200]}"
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.25)
    raise TimeoutError(f"{url} not ready after {timeout}s ({last})")


def stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@contextlib.contextmanager
def mlflow_server(workdir: Path) -> Iterator[str]:
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    log = (workdir / "mlflow-server.log").open("wb")
    proc = subprocess.Popen(
        [
            str(BIN / "mlflow"),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{workdir}/server.db",
            "--artifacts-destination",
            str(workdir / "artifacts"),
            "--workers",
            "1",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=workdir,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/health", 90, proc)
        yield url
    finally:
        stop(proc)
        log.close()


@contextlib.contextmanager
def api_server(
    env: dict[str, str], log_path: Path, extra_args: tuple[str, ...] = ()
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prices_predictor.cli", "serve", "--port", str(port), *extra_args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/ready", 90, proc)
        yield url, proc
    finally:
        stop(proc)
        log.close()


@contextlib.contextmanager
def postgres_server(workdir: Path) -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (the same code `make stack` uses)."""
    import shutil
    import tempfile

    from prices_predictor.ops import postgres

    # in /tmp, not pytest's private dir: the server runs as the 'postgres' user
    base = Path(tempfile.mkdtemp(prefix="pp-pg-"))
    try:
        yield postgres.start(base, free_port(), db="postgres")
    finally:
        postgres.stop(base)
        shutil.rmtree(base, ignore_errors=True)
        del workdir
