"""Predicted-vs-actual and residual plots (PNG files)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _plt():  # type: ignore[no-untyped-def]
    # lazy: SHAP and matplotlib only to explain or plot
    import matplotlib

    matplotlib.use("Agg")
    # lazy: SHAP and matplotlib only to explain or plot
    import matplotlib.pyplot as plt

    return plt


def predicted_vs_actual(y_log: np.ndarray, pred_log: np.ndarray, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    actual, pred = np.expm1(y_log) / 1000, np.expm1(pred_log) / 1000
    ax.scatter(actual, pred, s=6, alpha=0.5)
    lo, hi = float(min(actual.min(), pred.min())), float(max(actual.max(), pred.max()))
    ax.plot([lo, hi], [lo, hi], color="black", linewidth=1)
    ax.set(
        xlabel="actual price ($k)",
        ylabel="predicted price ($k)",
        title="Holdout: predicted vs actual",
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def residuals(y_log: np.ndarray, pred_log: np.ndarray, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.scatter(pred_log, y_log - pred_log, s=6, alpha=0.5)
    ax.axhline(0, color="black", linewidth=1)
    ax.set(xlabel="predicted log price", ylabel="residual (log)", title="Holdout residuals")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def importance_bar(importance: list[dict[str, Any]], path: Path, top: int = 20) -> Path:
    plt = _plt()
    rows = importance[:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(rows) + 1.2), dpi=100)
    ax.barh(
        [str(r["feature"]) for r in rows], [float(r["pct_effect"]) for r in rows], color="#3b6ea5"
    )
    ax.set(xlabel="mean |SHAP| as approximate % price effect", title="Global feature importance")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def shap_beeswarm(exp: Any, rows: Any, path: Path, top: int = 20) -> Path:
    """SHAP beeswarm of source features; colour is the raw value where the feature is numeric."""

    # lazy: SHAP and matplotlib only to explain or plot
    import shap

    plt = _plt()
    data = np.full(exp.values.shape, np.nan)
    for j, src in enumerate(exp.sources):
        if src in getattr(rows, "columns", []):
            data[:, j] = pd.to_numeric(rows[src], errors="coerce").to_numpy(dtype=float)
    e = shap.Explanation(
        values=exp.values, base_values=exp.base, data=data, feature_names=exp.sources
    )
    shap.plots.beeswarm(e, max_display=top, show=False)
    fig = plt.gcf()
    fig.set_size_inches(8, 0.35 * top + 1.5)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def waterfall_png(contribs: list[tuple[str, float]], base: float, pred: float) -> bytes:
    """A waterfall of log-price contributions for one prediction, as PNG bytes."""

    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(contribs) + 1.5), dpi=100)
    start = base
    labels = []
    for i, (name, v) in enumerate(contribs):
        ax.barh(i, v, left=start, color="#c0392b" if v < 0 else "#27ae60")
        start += v
        labels.append(f"{name} ({v:+.3f})")
    ax.set_yticks(range(len(contribs)), labels)
    ax.invert_yaxis()
    ax.axvline(base, color="grey", linewidth=0.8)
    ax.axvline(pred, color="black", linewidth=0.8)
    ax.set(xlabel=f"log price (base {base:.3f} -> prediction {pred:.3f})", title="Why this price")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
