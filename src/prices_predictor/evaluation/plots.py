"""Predicted-vs-actual and residual plots (PNG files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
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
