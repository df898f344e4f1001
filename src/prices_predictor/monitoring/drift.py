"""Drift of a current sample against the training reference, with the alert rule.

Alert when the share of drifted columns exceeds ``PP_DRIFT_SHARE_ALERT`` or when any of the
model's top-k most important raw features drifts: a pure share rule misses a 50% shift in
living area (it moves a handful of 80 columns). Effect-size tests (normed Wasserstein for
numbers, Jensen-Shannon for categories) are used at every sample size, and "absent" NaNs are
the category "None", so sparse columns (Pool QC, Fence) do not raise false alarms.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from prices_predictor.features.columns import read_numeric
from prices_predictor.features.values import NONE, cat_value
from prices_predictor.spec.model import DataSpec

log = logging.getLogger("prices_predictor.monitoring")

NUM_METHOD, CAT_METHOD = "wasserstein", "jensenshannon"
# Effect-size thresholds above the scores of random samples of the training data itself
# (docs/experiments.md has the measurements).
NUM_THRESHOLD, CAT_THRESHOLD = 0.4, 0.25
MIN_OBSERVED = 0.5  # a column must be non-empty in at least half the rows to be compared


@dataclass
class DriftResult:
    status: str  # "ok" | "alert" | "insufficient_data"
    kind: str
    n_current: int
    n_reference: int
    share: float = 0.0
    alert: bool = False
    drifted: list[str] = field(default_factory=list)
    top_features: list[str] = field(default_factory=list)
    drifted_top: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    checked_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    report_path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def top_raw_features(importance: list[dict[str, Any]], k: int, spec: DataSpec) -> list[str]:
    """The k most important raw columns, expanding engineered features to their sources."""
    features = set(spec.names())
    out: list[str] = []
    for item in importance:
        for raw in spec.sources(str(item["feature"])):
            if raw in features and raw not in out:
                out.append(raw)
        if len(out) >= k:
            break
    return out[:k]


def prepare(frame: pd.DataFrame, spec: DataSpec) -> pd.DataFrame:
    """Typed copy of the spec's columns: numbers as float (dates as decimal years),
    categories as stripped strings ("None" where missing means the house has none)."""

    out = pd.DataFrame(index=range(len(frame)))
    for f in spec.features:
        if f.name not in frame.columns:
            continue
        col = frame[f.name].reset_index(drop=True)
        if not f.categorical:
            out[f.name] = read_numeric(col.to_numpy(), len(col), f.kind, spec.dayfirst)
        else:
            vals = [cat_value(v) for v in col]
            if f.missing_policy() == "none":
                vals = [NONE if v is None else v for v in vals]
            out[f.name] = pd.Series(vals, dtype=object)
    return out


def check(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    spec: DataSpec,
    *,
    kind: str,
    importance: list[dict[str, Any]],
    share_alert: float,
    top_k: int,
    min_rows: int,
    report_dir: Path | None = None,
) -> DriftResult:
    """Compare ``current`` with ``reference``; optionally write the Evidently HTML report."""
    ref, cur = prepare(reference, spec), prepare(current, spec)
    top = top_raw_features(importance, top_k, spec)
    result = DriftResult("ok", kind, len(cur), len(ref), top_features=top)
    if len(cur) < min_rows:
        result.status = "insufficient_data"
        result.reasons.append(f"not enough data (n={len(cur)} < min {min_rows})")
        return result
    cols = [
        c
        for c in ref.columns
        if c in cur.columns
        and cur[c].notna().mean() >= MIN_OBSERVED
        and ref[c].notna().mean() >= MIN_OBSERVED
        and ref[c].nunique(dropna=True) > 1
    ]
    if not cols:
        result.status = "insufficient_data"
        result.reasons.append("no feature column is observed in enough rows")
        return result
    # lazy: Evidently (~10 s) only when a drift check runs
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    numeric = set(spec.numeric)
    num = [c for c in cols if c in numeric]
    cat = [c for c in cols if c not in numeric]
    dd = DataDefinition(numerical_columns=num, categorical_columns=cat)
    report = Report(
        [
            DataDriftPreset(
                columns=cols,
                num_method=NUM_METHOD,
                cat_method=CAT_METHOD,
                num_threshold=NUM_THRESHOLD,
                cat_threshold=CAT_THRESHOLD,
                drift_share=share_alert,
            )
        ]
    )
    snap = report.run(
        current_data=Dataset.from_pandas(cur[cols], data_definition=dd),
        reference_data=Dataset.from_pandas(ref[cols], data_definition=dd),
    )
    for m in snap.dict()["metrics"]:
        cfg = m.get("config", {})
        if cfg.get("type", "").endswith("ValueDrift"):
            score = float(m["value"])
            result.scores[cfg["column"]] = score
            p_value = "p_value" in str(cfg.get("method", ""))
            if (score < cfg["threshold"]) if p_value else (score >= cfg["threshold"]):
                result.drifted.append(cfg["column"])
    result.columns = cols
    result.share = len(result.drifted) / len(cols)
    result.drifted_top = [c for c in top if c in result.drifted]
    if result.share > share_alert:
        result.reasons.append(f"share of drifted columns {result.share:.2f} > {share_alert}")
    if result.drifted_top:
        result.reasons.append(f"important feature(s) drifted: {', '.join(result.drifted_top)}")
    result.alert = bool(result.reasons)
    result.status = "alert" if result.alert else "ok"
    if report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
        path = report_dir / f"{kind}-latest.html"
        snap.save_html(str(path))
        result.report_path = str(path)
    if result.alert:
        log.warning(
            "drift alert",
            extra={
                "kind": kind,
                "drifted": result.drifted,
                "share": round(result.share, 4),
                "drifted_top": result.drifted_top,
            },
        )
    return result
