"""Benchmarks, each a ratio against a peer measured in the same run on the same machine.

1. In-process: one-row p50 of our row path vs MLflow's pyfunc on the same model; rows/s;
   the prediction journal's cost per request; live drift.
2. Scoring: our kernel vs the libraries' own paths and a tree compiler (``bench/kernels.py``).
3. HTTP, driven by ``wrk``: one house on ``/v1/predict`` (ours), ``/invocations`` (``mlflow
   models serve --env-manager local`` on the same model) and a bare FastAPI endpoint (same
   body, constant answer: the ceiling) at concurrency 1, 8, 32; then 100-, 1,000- and
   10,000-house requests in every body type each server reads, at concurrency 1 and 8.
4. Cold start to readiness from a bundle.
5. A batch job (upload to result) vs ``predict`` on a 1,000,000-house file (``bench/jobs.py``).
6. ``predict --engine spark`` (local[2]) vs the local engine on 2,000,000 rows (``bench/spark.py``).
7. A house priced by its id from the feature store vs sent with all its fields
   (``bench/features.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import features, jobs, kernels, spark, wrk
from bench.bodies import BOTH, JSON, Body, mlflow_bodies, v2_body
from bench.report import write_report
from bench.servers import commands, first_start, serving
from bench.timing import p50_ms

ROOT = Path.cwd()
MODEL = "prices_predictor"
ONE_ROW_CONCURRENCY = (1, 8, 32)
BATCH_CONCURRENCY = (1, 8)
HOUSES = (100, 1_000, 10_000)


def ensure_model(home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PP_HOME": str(home),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "PP_RELOAD_INTERVAL_S": "0",
        "PP_CACHE_SIZE": "0",
    }
    bundle = home / "bundle"
    if not bundle.exists():
        print("bench: training the default model (once) ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "prices_predictor.cli", "train"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [sys.executable, "-m", "prices_predictor.cli", "export", "--out", str(bundle)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return env


def in_process(bundle: Path, rows: pd.DataFrame) -> dict[str, Any]:
    import mlflow.pyfunc

    from prices_predictor.tracking.bundle import load_bundle

    model, _ = load_bundle(bundle)
    recs = json.loads(rows.to_json(orient="records"))
    recs = [{k: v for k, v in r.items() if v is not None} for r in recs]
    model.predict_log(recs[:1])

    ours = p50_ms(lambda i: model.predict_log([recs[i % len(recs)]]), 2000)
    encode = p50_ms(lambda i: model.encoder.transform([recs[i % len(recs)]]), 2000)
    pyfunc = mlflow.pyfunc.load_model(str(bundle / "model"))
    frames = [rows.iloc[[i]] for i in range(100)]
    theirs = p50_ms(lambda i: pyfunc.predict(frames[i % 100]), 200)
    out: dict[str, Any] = {
        "one_row_p50_ms": ours,
        "encode_p50_ms": encode,
        "mlflow_pyfunc_one_row_p50_ms": theirs,
    }
    for n, repeats in ((10_000, 7), (1_000_000, 1)):
        big = rows.sample(n, replace=True, random_state=0).reset_index(drop=True)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            model.predict_log(big)
            times.append(time.perf_counter() - t)
        out[f"rows_per_s_{n}"] = n / float(np.median(times))
    from prices_predictor.models.explain import explain

    out["explain_p50_ms"] = p50_ms(lambda i: explain(model, [recs[i % len(recs)]]), 300)
    out.update(journal_cost(recs))
    out.update(live_drift(bundle, recs))
    return out


def journal_cost(recs: list[dict[str, Any]]) -> dict[str, float]:
    """What the durable prediction log adds to a one-house request: its row serialized and
    appended as one journal record (without and with fdatasync), on this machine's disk."""
    import orjson

    from prices_predictor.store.journal import ROWS, Journal

    def row(i: int) -> bytes:
        r = {"request_id": f"bench-{i}", "row": 0, "model_name": "prices_predictor"}
        r.update(model_version="1", variant="champion", shadow=False, client_id=None)
        r.update(features=recs[i % len(recs)], price=181000.0, price_low=160000.0)
        r.update(price_high=205000.0, latency_ms=0.3, spec_hash="0" * 16)
        return orjson.dumps([r])

    out = {}
    for fsync, n in ((False, 20_000), (True, 500)):
        with tempfile.TemporaryDirectory() as tmp:
            journal = Journal(Path(tmp), 1 << 30, fsync=fsync)
            ts = []
            for i in range(n):
                t = time.perf_counter()
                journal.append(ROWS, 1, row(i))
                ts.append(time.perf_counter() - t)
            journal.close()
        out[f"journal_append_us{'_fsync' if fsync else ''}"] = float(np.median(ts) * 1e6)
    return out


def live_drift(bundle: Path, recs: list[dict[str, Any]]) -> dict[str, float]:
    """Live drift over 10,000 logged predictions, end to end (read the log, test, store, HTML)."""
    from prices_predictor.core.settings import Settings
    from prices_predictor.monitoring.live import live_check
    from prices_predictor.spec.io import from_dict, preset
    from prices_predictor.store.predlog import PredictionLog

    meta = json.loads((bundle / "metadata.json").read_text())
    spec = from_dict(meta["spec"]) if "spec" in meta else preset("ames")
    with tempfile.TemporaryDirectory() as tmp:
        s = Settings(home=Path(tmp), drift_last=10_000)
        log = PredictionLog(s.prediction_db, s.journal_dir)
        log.add(
            [
                {
                    "request_id": f"b{i}",
                    "row": 0,
                    "model_name": "m",
                    "model_version": "1",
                    "variant": "champion",
                    "spec_hash": spec.digest(),
                    "shadow": False,
                    "features": recs[i % len(recs)],
                    "price": 1.0,
                }
                for i in range(10_000)
            ]
        )
        log.close()
        reference = pd.read_parquet(bundle / "reference.parquet")
        t = time.perf_counter()
        live_check(s, reference, meta.get("importance", []), spec)
        first = time.perf_counter() - t
        t = time.perf_counter()
        live_check(s, reference, meta.get("importance", []), spec)
        warm = time.perf_counter() - t
    return {"drift_10k_first_s": first, "drift_10k_warm_s": warm}


def http(env: dict[str, str], home: Path, rows: pd.DataFrame, tmp: Path) -> dict[str, Any]:
    """Every server, one at a time: its cold start, then each of its cells under wrk."""
    results: dict[str, Any] = {"ours_first_start_s": first_start(home, env, tmp)}
    for name, (cmd, senv, ready) in commands(home, env, tmp).items():
        with serving(cmd, senv, ready, tmp / f"{name}.log") as (url, startup):
            results[f"{name}_cold_start_s"] = startup
            for key, (path, ctype, body), concurrency in cells(name, url, rows):
                wrk.warm_up(f"{url}{path}", body, ctype, tmp)
                for c in concurrency:
                    results[f"{key}/{c}"] = r = wrk.run(f"{url}{path}", body, ctype, c, tmp)
                    print(f"bench: {key} c={c}: {r}", flush=True)
    return results


def cells(name: str, url: str, rows: pd.DataFrame) -> list[tuple[str, Body, tuple[int, ...]]]:
    """(key ``server/kind/houses``, body, concurrencies) for one server."""
    one = rows.head(1)
    single = json.dumps({k: v for k, v in _records(one)[0].items() if v is not None}).encode()
    out: list[tuple[str, Body, tuple[int, ...]]] = []
    if name in ("ours", "bare"):
        out.append((f"{name}/single/1", ("/v1/predict", JSON, single), ONE_ROW_CONCURRENCY))
    if name == "mlflow":
        body = mlflow_bodies(one)["records"]
        out.append(("mlflow/single/1", body, ONE_ROW_CONCURRENCY))
    if name == "bare":
        return out
    datatypes = _v2_datatypes(url) if name == "ours" else {}
    for n in HOUSES:
        houses = rows.sample(n, replace=n > len(rows), random_state=0).reset_index(drop=True)
        bodies = mlflow_bodies(houses)
        kinds = [*bodies] if name == "ours" else [*BOTH, "parquet"]
        for kind in kinds:
            out.append((f"{name}/{kind}/{n}", bodies[kind], BATCH_CONCURRENCY))
        if name == "ours":
            out.append((f"ours/v2/{n}", v2_body(houses, MODEL, datatypes), BATCH_CONCURRENCY))
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return list(json.loads(frame.to_json(orient="records")))


def _v2_datatypes(url: str) -> dict[str, str]:
    import httpx

    meta = httpx.get(f"{url}/v2/models/{MODEL}", timeout=30).json()
    return {i["name"]: i["datatype"] for i in meta["inputs"]}


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is not installed (apt-get install wrk; .ci/run installs it)")
    home = Path(os.environ.get("PP_BENCH_HOME", ROOT / ".pp-bench")).resolve()
    env = ensure_model(home)
    from prices_predictor.data.ingest import load
    from prices_predictor.data.split import protocol_split

    holdout = protocol_split(load("ames"))[1].drop(columns=["SalePrice", "Order"])
    inproc = in_process(home / "bundle", holdout)
    print(f"bench: in-process {inproc}", flush=True)
    kern = kernels.compare(home / "bundle", holdout)
    with tempfile.TemporaryDirectory() as tmp:
        job = jobs.compare(home, env, holdout, Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        engines = spark.compare(home, env, holdout, Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        feats = features.compare(home, env, holdout, Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        web = http(env, home, holdout, Path(tmp))
    write_report(inproc, kern, web, job, engines, feats, ROOT / "docs" / "BENCHMARKS.md")
