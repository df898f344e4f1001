"""The scoring kernel against the libraries' own fast paths and a tree compiler.

Same model (the bench bundle's default blend), same encoded rows, same run: one-row p50 and
rows/s for 10k and 1M rows through
- our kernel (``PriceModel.predict_log_encoded``: Ridge + XGBoost + LightGBM in one call);
- the libraries, combined as the blend combines them (``library_predict``: the Ridge as numpy,
  XGBoost ``inplace_predict``, LightGBM ``Booster.predict``), and each member alone, plus the
  Ridge through scikit-learn's ``Pipeline.predict``;
- treelite + tl2cgen: both boosters compiled to C by gcc (the compile time is reported), the
  Ridge as numpy.
Every path's answers are compared with the kernel's (max |difference| in log price).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

Predict = Callable[[np.ndarray], np.ndarray]
SMALL = 2000  # below this, one thread (as the kernel and library_predict do)
THREADS = 2


def _p50_us(f: Predict, pool: list[np.ndarray], calls: int = 2000) -> float:
    for x in pool[:50]:
        f(x)
    ts = []
    for i in range(calls):
        x = pool[i % len(pool)]
        t = time.perf_counter()
        f(x)
        ts.append(time.perf_counter() - t)
    return float(np.median(ts) * 1e6)


def _rows_per_s(f: Predict, X: np.ndarray, repeats: int) -> float:
    f(X[:SMALL])
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f(X)
        times.append(time.perf_counter() - t)
    return X.shape[0] / float(np.median(times))


def _tl2cgen(reg: Any, tmp: Path) -> tuple[Predict, float]:
    """The blend with both boosters compiled by treelite + tl2cgen (gcc)."""
    import tl2cgen
    import treelite

    from prices_predictor.models.scoring.library import library_predict

    (_, ridge, _), (_, xgb, _), (_, lgb, _) = reg.members
    weights = reg.weights  # normalised, as the blend combines them
    xgb.get_booster().save_model(str(tmp / "xgb.json"))
    lgb.booster_.save_model(str(tmp / "lgb.txt"))
    t0 = time.perf_counter()
    libs = {}
    for name, load in (
        ("xgb", lambda: treelite.frontend.load_xgboost_model(str(tmp / "xgb.json"))),
        ("lgb", lambda: treelite.frontend.load_lightgbm_model(str(tmp / "lgb.txt"))),
    ):
        libs[name] = tmp / f"{name}.so"
        tl2cgen.export_lib(
            load(), toolchain="gcc", libpath=str(libs[name]), params={"parallel_comp": THREADS}
        )
    compile_s = time.perf_counter() - t0
    one = {k: tl2cgen.Predictor(str(v), nthread=1) for k, v in libs.items()}
    many = {k: tl2cgen.Predictor(str(v), nthread=THREADS) for k, v in libs.items()}
    linear = library_predict(ridge)

    def blend(X: np.ndarray) -> np.ndarray:
        p = one if X.shape[0] < SMALL else many
        d = tl2cgen.DMatrix(X)
        trees = [np.asarray(p[k].predict(d), dtype=np.float64).reshape(-1) for k in ("xgb", "lgb")]
        return weights[0] * linear(X) + weights[1] * trees[0] + weights[2] * trees[1]

    return blend, compile_s


def compare(bundle: Path, rows: pd.DataFrame) -> dict[str, Any]:
    from prices_predictor.models.scoring.library import library_predict
    from prices_predictor.tracking.bundle import load_bundle

    model, _ = load_bundle(bundle)
    reg = model.regressor
    big = rows.sample(1_000_000, replace=True, random_state=0).reset_index(drop=True)
    X = np.ascontiguousarray(model.encoder.transform(big))
    pool = [X[i : i + 1] for i in range(500)]
    kernel = model.predict_log_encoded
    (_, ridge, _), (_, xgb, _), (_, lgb, _) = reg.members
    paths: dict[str, Predict] = {
        "kernel": kernel,
        "libraries": library_predict(reg, THREADS),
        "xgboost inplace_predict": library_predict(xgb, THREADS),
        "lightgbm Booster.predict": library_predict(lgb, THREADS),
        "ridge numpy": library_predict(ridge, THREADS),
        "ridge sklearn Pipeline.predict": lambda A: np.asarray(ridge.predict(A)),
    }
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths["tl2cgen"], out["tl2cgen_compile_s"] = _tl2cgen(reg, Path(tmp))
        reference = kernel(X[:10_000])
        for name, f in paths.items():
            slow = name not in ("kernel", "ridge numpy")
            row = {
                "one_row_p50_us": _p50_us(f, pool, 500 if slow else 2000),
                "rows_per_s_10k": _rows_per_s(f, X[:10_000], 5),
                "rows_per_s_1m": _rows_per_s(f, X, 1),
            }
            if name in ("kernel", "libraries", "tl2cgen"):
                row["max_abs_diff_vs_kernel"] = float(np.max(np.abs(f(X[:10_000]) - reference)))
            out[name] = row
            print(f"bench: kernels {name} {row}", flush=True)
    return out


def report(res: dict[str, Any]) -> list[str]:
    k = res["kernel"]
    lines = [
        "## Scoring: our kernel vs the libraries and a tree compiler",
        "",
        "Same blend, same encoded rows (no location effect, no encoding), one process. "
        f"tl2cgen compiled both boosters with gcc in {res['tl2cgen_compile_s']:.1f} s.",
        "",
        "| path | one row p50 | rows/s, 10k | rows/s, 1M | kernel is faster (1 row / 1M) |"
        " max abs diff vs kernel (log) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in res.items():
        if not isinstance(r, dict):
            continue
        ratio = (
            f"{r['one_row_p50_us'] / k['one_row_p50_us']:.1f}x / "
            f"{k['rows_per_s_1m'] / r['rows_per_s_1m']:.1f}x"
            if name != "kernel"
            else ""
        )
        diff = r.get("max_abs_diff_vs_kernel")
        lines.append(
            f"| {name} | {r['one_row_p50_us']:.1f} us | {r['rows_per_s_10k']:,.0f} | "
            f"{r['rows_per_s_1m']:,.0f} | {ratio} | {'' if diff is None else f'{diff:.1e}'} |"
        )
    lines.append("")
    return lines
