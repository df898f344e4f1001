"""A job against `prices-predictor predict` on the same 1,000,000-house Parquet file.

`predict`: its wall time as a user sees it (process start to exit: read, model, score,
write). The job: upload over HTTP, queue, one warm worker, result downloaded, from the first
byte sent to the last byte received (the client polls the status every 20 ms). Both results
must be identical.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from bench.servers import serving
from ops import redis
from ops.procs import free_port, stop_process

ROWS = 1_000_000
REPEATS = 3
POLL_S = 0.02
PREDICT = [sys.executable, "-m", "prices_predictor.cli", "predict"]


def compare(home: Path, env: dict[str, str], rows: pd.DataFrame, tmp: Path) -> dict[str, Any]:
    data = tmp / "houses-1m.parquet"
    big = rows.sample(ROWS, replace=True, random_state=0).reset_index(drop=True)
    big.insert(0, "Order", np.arange(ROWS))
    big.to_parquet(data, index=False)
    size = data.stat().st_size
    run_env = {**env, "PP_MODEL_URI": str(home / "bundle"), "PP_LOG_LEVEL": "WARNING"}
    predict_s, direct = [], tmp / "direct.parquet"
    for _ in range(REPEATS):
        t = time.perf_counter()
        subprocess.run(
            [*PREDICT, "--data", str(data), "--out", str(direct)],
            env=run_env,
            check=True,
            capture_output=True,
        )
        predict_s.append(time.perf_counter() - t)
    job_s: list[float] = []
    parts: list[dict[str, float]] = []
    with _job_stack(run_env, tmp) as url, httpx.Client(base_url=url, timeout=600) as c:
        _run_job(c, rows.head(100).to_csv(index=False).encode(), "text/csv")  # warm
        body = data.read_bytes()
        for _ in range(REPEATS):
            t = time.perf_counter()
            job, result = _run_job(c, body, "application/vnd.apache.parquet")
            job_s.append(time.perf_counter() - t)
            parts.append(job["seconds"])
    got = tmp / "job.parquet"
    got.write_bytes(result)
    identical = pd.read_parquet(got).equals(pd.read_parquet(direct))
    p, j = float(np.median(predict_s)), float(np.median(job_s))
    worker = {k: float(np.median([x[k] for x in parts])) for k in parts[0]}
    out = {
        "rows": ROWS,
        "file_mb": size / 1e6,
        "predict_wall_s": p,
        "job_wall_s": j,
        "job_over_predict": j / p,
        "identical": identical,
        "worker_seconds": worker,
    }
    print(f"bench: jobs {out}", flush=True)
    return out


def _run_job(c: httpx.Client, body: bytes, ctype: str) -> tuple[dict[str, Any], bytes]:
    r = c.post("/v1/jobs", content=body, headers={"content-type": ctype})
    r.raise_for_status()
    job_id = r.json()["id"]
    while True:
        job: dict[str, Any] = c.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in ("finished", "failed", "cancelled"):
            break
        time.sleep(POLL_S)
    if job["state"] != "finished":
        raise RuntimeError(f"bench job {job_id} ended {job['state']}: {job.get('error')}")
    res = c.get(f"/v1/jobs/{job_id}/result", params={"format": "parquet"})
    res.raise_for_status()
    return job, res.content


@contextlib.contextmanager
def _job_stack(env: dict[str, str], tmp: Path) -> Iterator[str]:
    """redis-server, the API and one worker, all serving the bench bundle."""
    url, proc = redis.start(tmp / "redis", free_port(), tmp / "redis.log")
    home = tmp / "jobs-home"
    job_env = {**env, "PP_REDIS_URL": url, "PP_HOME": str(home)}
    job_env["PP_PREDICTION_DB_URL"] = f"sqlite:///{tmp / 'jobs-predictions.db'}"
    worker = None
    try:
        cmd = [sys.executable, "-m", "prices_predictor.cli", "serve", "--port", "{port}"]
        with serving(cmd, job_env, "/ready", tmp / "jobs-api.log") as (api, _):
            with (tmp / "worker.log").open("wb") as log:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "prices_predictor.cli", "worker"],
                    env=job_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            yield api
    finally:
        if worker is not None:
            stop_process(worker)
        stop_process(proc)


def report(r: dict[str, Any]) -> list[str]:
    if not r:
        return []
    w = r["worker_seconds"]
    return [
        "## Batch jobs (upload to result) vs `prices-predictor predict`",
        "",
        f"The same {r['rows']:,}-house Parquet file ({r['file_mb']:.1f} MB), median of "
        f"{REPEATS} runs each. `predict`: process start to exit. Job: HTTP upload, queue, one "
        "warm worker (`prices-predictor worker`, model loaded at its start), result downloaded "
        f"as Parquet; the client polls the status every {POLL_S * 1000:.0f} ms.",
        "",
        "| | wall time |",
        "|---|---:|",
        f"| `prices-predictor predict` | {r['predict_wall_s']:.2f} s |",
        f"| job over HTTP | {r['job_wall_s']:.2f} s |",
        f"| **job / predict** | **{r['job_over_predict']:.2f}x** (target <= 1.25x) |",
        "",
        f"Results identical: {'yes' if r['identical'] else 'NO'}. Inside the worker: read and "
        f"validate {w.get('read', 0):.2f} s, kernels {w.get('prepare', 0):.2f} s, score "
        f"{w.get('score', 0):.2f} s, write {w.get('write', 0):.2f} s (total "
        f"{w.get('total', 0):.2f} s).",
        "",
    ]
