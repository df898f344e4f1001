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
            stop(proc)


@contextlib.contextmanager
def mlflow_server(workdir: Path) -> Iterator[str]:
    port = free_port()
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
        f"sqlite:///{workdir}/server.db",
        "--artifacts-destination",
        str(workdir / "artifacts"),
        "--workers",
        "1",
    ]
    with process(argv, env, workdir / "mlflow-server.log", f"{url}/health", cwd=workdir):
        yield url


@contextlib.contextmanager
def api_server(
    env: dict[str, str], log_path: Path, extra_args: tuple[str, ...] = ()
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "prices_predictor.cli", "serve", "--port", str(port), *extra_args]
    with process(argv, env, log_path, f"{url}/ready") as proc:
        yield url, proc


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
