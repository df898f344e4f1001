"""The live check: logged prediction inputs vs the serving model's training reference."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from prices_predictor.core.settings import Settings
from prices_predictor.monitoring.drift import DriftResult, check
from prices_predictor.spec.io import preset
from prices_predictor.spec.model import DataSpec
from prices_predictor.store.drift import save
from prices_predictor.store.predictions import make_engine, read_recent


def recent_inputs(
    engine: sa.Engine, last: int | None, since: dt.datetime | None, spec: DataSpec
) -> pd.DataFrame:
    """Logged inputs read with this spec (never those of a model with another schema)."""
    rows = read_recent(
        engine, last=last, since=since, spec_hash=spec.digest(), legacy_hash=preset_digest()
    )
    return pd.DataFrame([r["features"] for r in rows])


def preset_digest() -> str:

    return preset("ames").digest()


def live_check(
    s: Settings,
    reference: pd.DataFrame,
    importance: list[dict[str, Any]],
    spec: DataSpec,
    *,
    last: int | None = None,
    since: dt.datetime | None = None,
    engine: sa.Engine | None = None,
) -> DriftResult:
    """Run, store and return the live drift check (HTML report under PP_HOME/drift)."""
    engine = engine or make_engine(s.prediction_db)
    if last is None and since is None:
        last = s.drift_last
    current = recent_inputs(engine, last, since, spec)
    result = check(
        reference,
        current,
        spec,
        kind="live",
        importance=importance,
        share_alert=s.drift_share_alert,
        top_k=s.drift_top_k,
        min_rows=s.drift_min_rows,
        report_dir=s.home / "drift",
    )
    save(engine, result.as_dict())
    return result


def report_path(s: Settings, kind: str = "live") -> Path:
    return s.home / "drift" / f"{kind}-latest.html"
