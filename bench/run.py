"""Benchmarks, each a ratio against a peer measured in the same run on the same machine.

1. In-process: one-row p50 of our row path vs MLflow's pyfunc on the same model; rows/s.
2. HTTP: our server vs ``mlflow models serve --env-manager local`` on the same registered
   model, and a bare FastAPI endpoint (same body, same schema, constant answer) as the ceiling;
   driven by ``wrk`` at concurrency 1, 8, 32 with one row and 100 rows.
3. Cold start to /ready from a bundle.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ops.procs import free_port, stop_process, wait_http

ROOT = Path.cwd()
BIN = Path(sys.executable).parent
DURATION_S = int(os.environ.get("PP_BENCH_DURATION_S", "6"))
CONCURRENCY = (1, 8, 32)
SETTLE_S = 3.0
COLD_POLL_S = 0.02  # cold starts are measured by polling readiness this often


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def wrk(url: str, body: str, conns: int, tmp: Path) -> dict[str, float]:
    script = post_script(tmp, body)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(min(conns, 2)),
            "-c",
            str(conns),
            "-d",
            f"{DURATION_S}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=DURATION_S + 60,
    ).stdout

    def unit(v: str, u: str) -> float:
        return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[u]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"\s(50|99)%\s+([\d.]+\w+)", out))
    pct = {k: unit(*re.match(r"([\d.]+)(\w+)", v).groups()) for k, v in lat.items()}  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    n_err = int(non2xx.group(1)) if non2xx else 0
    if errs:
        n_err += sum(int(x) for x in errs.groups())
    return {
        "rps": rps,
        "p50_ms": pct.get("50", float("nan")),
        "p99_ms": pct.get("99", float("nan")),
        "errors": n_err,
    }


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

    def p50(f: Any, n: int) -> float:
        ts = []
        for i in range(n):
            t = time.perf_counter()
            f(i)
            ts.append(time.perf_counter() - t)
        return float(np.median(ts) * 1e3)

    ours = p50(lambda i: model.predict_log([recs[i % len(recs)]]), 2000)
    encode = p50(lambda i: model.encoder.transform([recs[i % len(recs)]]), 2000)
    pyfunc = mlflow.pyfunc.load_model(str(bundle / "model"))
    frames = [rows.iloc[[i]] for i in range(100)]
    theirs = p50(lambda i: pyfunc.predict(frames[i % 100]), 200)
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

    out["explain_p50_ms"] = p50(lambda i: explain(model, [recs[i % len(recs)]]), 300)
    out.update(live_drift(bundle, recs))
    return out


def live_drift(bundle: Path, recs: list[dict[str, Any]]) -> dict[str, float]:
    """Live drift over 10,000 logged predictions, end to end (read the log, test, store, HTML)."""
    from prices_predictor.core.settings import Settings
    from prices_predictor.monitoring.live import live_check
    from prices_predictor.spec.io import from_dict, preset
    from prices_predictor.store.predictions import PredictionLog

    meta = json.loads((bundle / "metadata.json").read_text())
    spec = from_dict(meta["spec"]) if "spec" in meta else preset("ames")
    with tempfile.TemporaryDirectory() as tmp:
        s = Settings(home=Path(tmp), drift_last=10_000)
        log = PredictionLog(s.prediction_db)
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
    one = json.loads(rows.head(1).to_json(orient="records"))[0]
    one = {k: v for k, v in one.items() if v is not None}
    hundred = json.loads(rows.head(100).to_json(orient="records"))
    ours_env = {
        **env,
        "PP_MODEL_URI": str(home / "bundle"),
        "PP_LOG_LEVEL": "WARNING",
        # a fresh prediction log per run: numbers must not depend on how often bench ran
        "PP_PREDICTION_DB_URL": f"sqlite:///{tmp / 'predictions.db'}",
    }
    servers = {
        "ours": (
            [sys.executable, "-m", "prices_predictor.cli", "serve", "--port", "{port}"],
            ours_env,
            "/ready",
        ),
        "mlflow": (
            [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                str(home / "bundle" / "model"),
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                "{port}",
            ],
            {**env, "PATH": f"{BIN}:{os.environ['PATH']}"},
            "/ping",
        ),
        "bare": (
            [
                str(BIN / "uvicorn"),
                "bench.bare_app:app",
                "--port",
                "{port}",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env,
            "/docs",
        ),
    }
    bodies = {
        ("ours", 1): ("/v1/predict", json.dumps(one)),
        ("ours", 100): ("/invocations", json.dumps({"dataframe_records": hundred})),
        ("mlflow", 1): ("/invocations", json.dumps({"dataframe_records": [one]})),
        ("mlflow", 100): ("/invocations", json.dumps({"dataframe_records": hundred})),
        ("bare", 1): ("/v1/predict", json.dumps(one)),
    }
    results: dict[str, Any] = {}
    # The scoring kernel is compiled once per machine into PP_HOME's numba cache; a start
    # with an empty cache shows what the very first start costs.
    first = {**ours_env, "PP_KERNEL_CACHE_DIR": str(tmp / "empty-kernel-cache")}
    port = free_port()
    proc = start(
        [c.replace("{port}", str(port)) for c in servers["ours"][0]], first, tmp / "first.log"
    )
    try:
        results["ours_first_start_s"] = wait_http(
            f"http://127.0.0.1:{port}/ready", 120, proc, poll_s=COLD_POLL_S
        )
    finally:
        stop_process(proc, 30)
    # every later start finds the kernel in PP_HOME's cache, filled as the Docker image does
    subprocess.run(
        [sys.executable, "-m", "prices_predictor.models.scoring.kernel"], env=ours_env, check=True
    )
    for name, (cmd, senv, ready) in servers.items():
        port = free_port()
        proc = start([c.replace("{port}", str(port)) for c in cmd], senv, tmp / f"{name}.log")
        try:
            startup = wait_http(f"http://127.0.0.1:{port}{ready}", 120, proc, poll_s=COLD_POLL_S)
            results[f"{name}_cold_start_s"] = startup
            time.sleep(SETTLE_S)  # ours opens the explainer in the background once ready
            for n_rows in (1, 100):
                if (name, n_rows) not in bodies:
                    continue
                path, body = bodies[(name, n_rows)]
                url = f"http://127.0.0.1:{port}{path}"
                subprocess.run(
                    ["wrk", "-t1", "-c1", "-d1s", "-s", str(post_script(tmp, body)), url],
                    capture_output=True,
                    timeout=60,
                )  # warm-up
                for c in CONCURRENCY:
                    results[f"{name}/{n_rows}/{c}"] = wrk(url, body, c, tmp)
                    print(
                        f"bench: {name} rows={n_rows} c={c}: {results[f'{name}/{n_rows}/{c}']}",
                        flush=True,
                    )
        finally:
            stop_process(proc, 30)
    return results


def post_script(tmp: Path, body: str) -> Path:
    """A wrk Lua script that POSTs ``body`` as JSON."""
    (tmp / "body.json").write_text(body)
    p = tmp / "post.lua"
    p.write_text(
        f'local f = io.open("{tmp / "body.json"}", "r")\nwrk.method = "POST"\n'
        'wrk.body = f:read("*a")\nf:close()\nwrk.headers["Content-Type"] = "application/json"\n'
    )
    return p


def write_report(inproc: dict[str, Any], web: dict[str, Any], path: Path) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {dt.date.today().isoformat()}, this machine: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}. "
        f"wrk {DURATION_S}s per cell, after {SETTLE_S:.0f}s of rest and a 1s warm-up per "
        "server. The default model (blend of Ridge, XGBoost 400 trees, "
        "LightGBM 400 trees) trained on the bundled Ames data; every server serves the same "
        "exported model. Ours scores it with the compiled kernel (`models/kernel.py`), MLflow "
        "through the libraries. Our prediction cache is off (PP_CACHE_SIZE=0) so every request "
        "is scored; the prediction log is on.",
        "",
        "## In-process",
        "",
        "| measure | ours | MLflow pyfunc | ratio |",
        "|---|---|---|---|",
        f"| one row p50 | {inproc['one_row_p50_ms']:.3f} ms | "
        f"{inproc['mlflow_pyfunc_one_row_p50_ms']:.3f} ms | "
        f"{inproc['mlflow_pyfunc_one_row_p50_ms'] / inproc['one_row_p50_ms']:.1f}x faster |",
        f"| of which feature encoding | {inproc['encode_p50_ms']:.3f} ms | | |",
        f"| rows/s, 10k rows | {inproc['rows_per_s_10000']:,.0f} | | |",
        f"| rows/s, 1M rows | {inproc['rows_per_s_1000000']:,.0f} | | |",
        f"| one-row explanation p50 | {inproc['explain_p50_ms']:.3f} ms | | |",
        f"| live drift, 10k logged rows (first call, incl. Evidently import) | "
        f"{inproc['drift_10k_first_s']:.2f} s | | |",
        f"| live drift, 10k logged rows (warm) | {inproc['drift_10k_warm_s']:.2f} s | | |",
        "",
        "## HTTP (wrk, keep-alive, one uvicorn worker each)",
        "",
        "| server | rows | conc. | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, v in web.items():
        if "/" not in key:
            continue
        name, n_rows, conc = key.split("/")
        lines.append(
            f"| {name} | {n_rows} | {conc} | {v['rps']:,.1f} | {v['p50_ms']:.2f} | "
            f"{v['p99_ms']:.2f} | {v['errors']} |"
        )
    lines += ["", "## Ratios (same run)", ""]
    for rows in (1, 100):
        for c in CONCURRENCY:
            o, m = web.get(f"ours/{rows}/{c}"), web.get(f"mlflow/{rows}/{c}")
            if o and m:
                lines.append(
                    f"- {rows} row(s), concurrency {c}: ours / MLflow = {o['rps'] / m['rps']:.1f}x"
                )
    for c in CONCURRENCY:
        o, b = web.get(f"ours/1/{c}"), web.get(f"bare/1/{c}")
        if o and b:
            lines.append(
                f"- 1 row, concurrency {c}: ours / bare FastAPI ceiling = "
                f"{100 * o['rps'] / b['rps']:.0f}%"
            )
    lines += [
        "",
        "## Cold start (process start to first 200 on the readiness URL)",
        "",
        f"- ours from a bundle: {web.get('ours_cold_start_s', float('nan')):.2f} s "
        "(scoring kernel in the numba cache, as on every start after the first; the "
        "Docker image fills the cache at build time)",
        f"- ours from a bundle, first start on a machine (kernel compiled): "
        f"{web.get('ours_first_start_s', float('nan')):.2f} s",
        f"- mlflow models serve: {web.get('mlflow_cold_start_s', float('nan')):.2f} s",
        f"- bare FastAPI: {web.get('bare_cold_start_s', float('nan')):.2f} s",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print("\n".join(lines))


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
    with tempfile.TemporaryDirectory() as tmp:
        web = http(env, home, holdout, Path(tmp))
    write_report(inproc, web, ROOT / "docs" / "BENCHMARKS.md")
