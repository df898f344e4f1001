"""A local redis-server (Debian's package) with append-only persistence: the job queue of
`make stack` and of the tests. Jobs survive a restart of this server on the same directory."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis


def argv(workdir: Path, port: int) -> list[str]:
    exe = shutil.which("redis-server")
    if exe is None:
        raise RuntimeError("redis-server not found: apt-get install redis-server (Debian)")
    return [
        exe,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(workdir),
        "--appendonly",  # without it a restart on the same directory starts empty
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--daemonize",
        "no",
    ]


def start(workdir: Path, port: int, log: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """Start redis-server on 127.0.0.1:``port``; returns its URL and process once it answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as fh:
        proc = subprocess.Popen(
            argv(workdir, port), stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"redis://127.0.0.1:{port}/0"
    wait(url, 30, proc)
    return url, proc


def wait(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {proc.returncode}")
        try:
            if client.ping():
                return
        except redis.exceptions.BusyLoadingError:
            pass
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not ready after {timeout}s")
        time.sleep(0.05)
