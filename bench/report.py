"""docs/BENCHMARKS.md from one run's numbers."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path
from typing import Any

from bench import features, jobs, kernels, spark
from bench.wrk import DURATION_S


def write_report(
    inproc: dict[str, Any],
    kern: dict[str, Any],
    web: dict[str, Any],
    job: dict[str, Any],
    engines: dict[str, Any],
    feats: dict[str, Any],
    path: Path,
) -> None:
    lines = [
        *_intro(),
        *_in_process(inproc),
        *kernels.report(kern),
        *_one_row(web),
        *_batches(web, inproc),
        *jobs.report(job),
        *spark.report(engines),
        *features.report(feats),
        *_cold_starts(web),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print("\n".join(lines))


def _intro() -> list[str]:
    return [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {dt.date.today().isoformat()}, this machine: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}. "
        f"wrk {DURATION_S}s per cell after a 1s warm-up, one server process at a time. The "
        "default model (blend of Ridge, XGBoost 400 trees, LightGBM 400 trees) trained on "
        "the bundled Ames data; every server serves the same exported model. Ours scores it "
        "with the compiled kernel (`models/scoring/`), MLflow through the libraries. Our "
        "prediction cache is off (PP_CACHE_SIZE=0) so every request is scored; the "
        "prediction log (journal + shipper to SQLite) is on; PP_MAX_BODY_BYTES is raised to "
        "200 MB for the 10,000-house JSON bodies (~25 MB).",
        "",
    ]


def _in_process(r: dict[str, Any]) -> list[str]:
    return [
        "## In-process",
        "",
        "| measure | ours | MLflow pyfunc | ratio |",
        "|---|---|---|---|",
        f"| one row p50 | {r['one_row_p50_ms']:.3f} ms | "
        f"{r['mlflow_pyfunc_one_row_p50_ms']:.3f} ms | "
        f"{r['mlflow_pyfunc_one_row_p50_ms'] / r['one_row_p50_ms']:.1f}x faster |",
        f"| of which feature encoding | {r['encode_p50_ms']:.3f} ms | | |",
        f"| rows/s, 10k rows | {r['rows_per_s_10000']:,.0f} | | |",
        f"| rows/s, 1M rows | {r['rows_per_s_1000000']:,.0f} | | |",
        f"| one-row explanation p50 | {r['explain_p50_ms']:.3f} ms | | |",
        "| prediction journal, one-house record (serialize + append) p50 | "
        f"{r['journal_append_us']:.1f} us | | |",
        f"| the same with PP_PREDLOG_FSYNC=true | {r['journal_append_us_fsync']:.1f} us | | |",
        "| live drift, 10k logged rows (first call, incl. Evidently import) | "
        f"{r['drift_10k_first_s']:.2f} s | | |",
        f"| live drift, 10k logged rows (warm) | {r['drift_10k_warm_s']:.2f} s | | |",
        "",
    ]


def _one_row(web: dict[str, Any]) -> list[str]:
    lines = [
        "## HTTP, one house per request",
        "",
        "| server | conc. | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for server in ("ours", "mlflow", "bare"):
        for c in (1, 8, 32):
            v = web.get(f"{server}/single/1/{c}")
            if v:
                lines.append(
                    f"| {server} | {c} | {v['rps']:,.1f} | {v['p50_ms']:.2f} | "
                    f"{v['p99_ms']:.2f} | {v['errors']} |"
                )
    lines.append("")
    for c in (1, 8, 32):
        o, m, b = (web.get(f"{s}/single/1/{c}") for s in ("ours", "mlflow", "bare"))
        if o and m and b:
            lines.append(
                f"- concurrency {c}: ours / MLflow = {o['rps'] / m['rps']:.1f}x; "
                f"ours / bare FastAPI ceiling = {100 * o['rps'] / b['rps']:.0f}%"
            )
    return [*lines, ""]


def _batches(web: dict[str, Any], inproc: dict[str, Any]) -> list[str]:
    lines = [
        "## HTTP, batches: houses/s by body type",
        "",
        "`/invocations` (MLflow's scoring protocol) and, for ours, `/v2/models/.../infer` "
        "(Open Inference Protocol, JSON tensors). Houses/s = requests/s x houses per request.",
        "",
        "| body | houses | conc. | ours houses/s | MLflow houses/s | ours / MLflow | ours p99 ms "
        "| errors (ours, MLflow) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted(k for k in web if k.startswith("ours/") and "/single/" not in k):
        _, kind, n, c = key.split("/")
        o, m = web[key], web.get(f"mlflow/{kind}/{n}/{c}")
        ours = o["rps"] * int(n)
        theirs = m["rps"] * int(n) if m else None
        lines.append(
            f"| {kind} | {int(n):,} | {c} | {ours:,.0f} | "
            f"{'' if theirs is None else f'{theirs:,.0f}'} | "
            f"{'' if not theirs else f'{ours / theirs:.1f}x'} | {o['p99_ms']:.1f} | "
            f"{o['errors']}, {'' if m is None else m['errors']} |"
        )
    best = max(
        (web[k]["rps"] * 10_000, k.split("/")[1])
        for k in web
        if k.startswith("ours/")
        and k.split("/")[2] == "10000"
        and k.split("/")[1] in ("parquet", "arrow")
    )
    lines += [
        "",
        f"- 10,000-house {best[1]} bodies: {best[0]:,.0f} houses/s = "
        f"{100 * best[0] / inproc['rows_per_s_10000']:.0f}% of the in-process batch rate for "
        f"10k rows ({inproc['rows_per_s_10000']:,.0f} rows/s, same run)",
        "",
    ]
    return lines


def _cold_starts(web: dict[str, Any]) -> list[str]:
    nan = float("nan")
    return [
        "## Cold start (process start to first 200 on the readiness URL)",
        "",
        f"- ours from a bundle: {web.get('ours_cold_start_s', nan):.2f} s (scoring kernel in "
        "the numba cache, as on every start after the first; the Docker image fills the "
        "cache at build time)",
        "- ours from a bundle, first start on a machine (kernel compiled): "
        f"{web.get('ours_first_start_s', nan):.2f} s",
        f"- mlflow models serve: {web.get('mlflow_cold_start_s', nan):.2f} s",
        f"- bare FastAPI: {web.get('bare_cold_start_s', nan):.2f} s",
        "",
    ]
