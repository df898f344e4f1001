"""`predict --engine spark` (local[2]) against the local engine on the same 2,000,000 rows.

Both through the CLI, as a user runs them. The local engine's own timings (read, score,
write) and Spark's (session start, validation pass, scoring + write pass) are parsed from
what each prints; the wall time is process start to exit.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROWS = 2_000_000
CLI = [sys.executable, "-m", "prices_predictor.cli", "predict"]
SPARK = ["--engine", "spark", "--master", "local[2]"]


def compare(home: Path, env: dict[str, str], rows: pd.DataFrame, tmp: Path) -> dict[str, Any]:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        print("bench: spark skipped (pip install 'prices-predictor[spark]')", flush=True)
        return {}
    data = tmp / "houses-2m.parquet"
    big = rows.sample(ROWS, replace=True, random_state=0).reset_index(drop=True)
    big.insert(0, "key", np.arange(ROWS, dtype=np.int64))
    pq.write_table(pa.Table.from_pandas(big, preserve_index=False), data, row_group_size=100_000)
    run_env = {**env, "PP_MODEL_URI": str(home / "bundle"), "PP_LOG_LEVEL": "WARNING"}
    out: dict[str, Any] = {"rows": ROWS}
    local_out = tmp / "local.parquet"
    t = time.perf_counter()
    local = _run([*CLI, "--data", str(data), "--out", str(local_out), "--keep", "key"], run_env)
    out["local_wall_s"] = time.perf_counter() - t
    m = re.search(
        r"read ([\d.]+) s, kernel ([\d.]+) s, score ([\d.]+) s .* write ([\d.]+) s", local
    )
    if m:
        out.update(local_read_s=float(m[1]), local_score_s=float(m[3]), local_write_s=float(m[4]))
    spark_out = tmp / "spark-out"
    t = time.perf_counter()
    text = _run(
        [*CLI, *SPARK, "--data", str(data), "--out", str(spark_out), "--keep", "key"],
        run_env,
    )
    out["spark_wall_s"] = time.perf_counter() - t
    m = re.search(
        r"session ([\d.]+) s, read \+ check \+ score ([\d.]+) s .* write ([\d.]+) s", text
    )
    if m:
        out.update(
            spark_session_s=float(m[1]), spark_score_s=float(m[2]), spark_write_s=float(m[3])
        )
    got = pd.read_parquet(spark_out).merge(pd.read_parquet(local_out), on="key")
    rel = np.abs(got["price_x"] - got["price_y"]) / got["price_y"]
    out["max_rel_diff"] = float(rel.max())
    out["joined_rows"] = len(got)
    print(f"bench: spark {out}", flush=True)
    return out


def _run(argv: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[3:]} failed: {proc.stderr[-2000:]}")
    return " ".join(proc.stdout.split())


def report(r: dict[str, Any]) -> list[str]:
    if not r:
        return []
    n = r["rows"]

    def rate(s: float | None) -> str:
        return f"{n / s:,.0f}" if s else "n/a"

    return [
        "## Spark engine (local[2]) vs the local engine",
        "",
        f"The same {n:,}-row Parquet file (row groups of 100,000), both through `prices-predictor "
        "predict`, wall = process start to exit (model load included). Spark's session start "
        "is apart from its work: one pass that reads, checks and scores every row (cached), "
        "then the write.",
        "",
        "| | wall | Spark session | read + check + score | write | rows/s (read + check + score) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| local engine | {r['local_wall_s']:.1f} s | - "
        f"| {r.get('local_read_s', 0) + r.get('local_score_s', 0):.1f} s "
        f"| {r.get('local_write_s', 0):.1f} s "
        f"| {rate(r.get('local_read_s', 0) + r.get('local_score_s', 0))} |",
        f"| Spark local[2] | {r['spark_wall_s']:.1f} s | {r.get('spark_session_s', 0):.1f} s "
        f"| {r.get('spark_score_s', 0):.1f} s | {r.get('spark_write_s', 0):.1f} s "
        f"| {rate(r.get('spark_score_s'))} |",
        "",
        f"Joined by key: {r['joined_rows']:,} rows, max relative price difference "
        f"{r['max_rel_diff']:.1e}. On one 2-core machine Spark costs more than one process "
        "(the JVM converts every column to Arrow for Python); it pays across machines.",
        "",
    ]
