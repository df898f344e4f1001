"""Background HTTP traffic for the drills: threads sending a request mix, every answer kept."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


@dataclass(frozen=True)
class Answer:
    kind: str
    request_id: str
    status: int  # -1: no answer (connection refused or reset)
    version: str | None
    started: float  # monotonic
    latency_s: float
    rows: int


# (path, body) for request number i
Build = Callable[[int], tuple[str, dict[str, Any]]]


def single(i: int) -> tuple[str, dict[str, Any]]:
    return "/v1/predict", {"gr_liv_area": 700 + i % 2500, "overall_qual": 1 + i % 10}


def batch(i: int) -> tuple[str, dict[str, Any]]:
    houses = [{"gr_liv_area": 800 + (i + k) % 2000} for k in range(5)]
    return "/v1/predict/batch", {"houses": houses}


def explain(i: int) -> tuple[str, dict[str, Any]]:
    return "/v1/explain", {"gr_liv_area": 900 + i % 1500}


def invalid(i: int) -> tuple[str, dict[str, Any]]:
    return "/v1/predict", {"gr_liv_area": -1 - i}


ROWS = {"single": 1, "batch": 5, "explain": 1, "invalid": 0}
BUILDERS: dict[str, Build] = {
    "single": single,
    "batch": batch,
    "explain": explain,
    "invalid": invalid,
}


class Load:
    """``threads`` clients cycling through ``mix`` (kind names, repeated for weight) until
    stopped; request ids are ours (``<prefix>-<thread>-<n>``) so the log can be checked."""

    def __init__(self, url: str, mix: list[str], prefix: str, threads: int = 2) -> None:
        self.url = url
        self.mix = mix
        self.prefix = prefix
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(t,), daemon=True) for t in range(threads)
        ]

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> list[Answer]:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)
        return self.answers

    def _run(self, thread: int) -> None:
        with httpx.Client(base_url=self.url, timeout=15) as client:
            for n, kind in enumerate(itertools.cycle(self.mix)):
                if self._stop.is_set():
                    return
                path, body = BUILDERS[kind](n)
                rid = f"{self.prefix}-{thread}-{n}"
                t0 = time.monotonic()
                try:
                    r = client.post(path, json=body, headers={"X-Request-ID": rid})
                    status, version = r.status_code, r.headers.get("x-model-version")
                except httpx.TransportError:
                    status, version = -1, None
                    time.sleep(0.05)  # the server is gone: do not spin
                answer = Answer(kind, rid, status, version, t0, time.monotonic() - t0, ROWS[kind])
                with self._lock:
                    self.answers.append(answer)

    def count(self) -> int:
        with self._lock:
            return len(self.answers)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def settled_rss(pid: int, timeout: float = 40.0, window: float = 4.0) -> int:
    """The process's RSS once warm-up is over (first requests, compiled kernels, the first
    shipper passes): no sample moved more than 2% over ``window`` seconds."""
    keep = int(window / 0.5) + 1  # one sample every 0.5 s
    values: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        values = [*values, rss_bytes(pid)][-keep:]
        if len(values) == keep and max(values) <= min(values) * 1.02:
            return max(values)
        time.sleep(0.5)
    raise TimeoutError(f"RSS of {pid} still moving after {timeout:.0f} s: {values}")
