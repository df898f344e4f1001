"""Live drift: run the check on recent predictions; serve the latest HTML report."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from prices_predictor.serving.deps import MetricsDep, ServiceDep, SettingsDep

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"])


@router.get(
    "/drift", responses={404: {"description": "No reference"}, 503: {"description": "Not ready"}}
)
async def drift(
    service: ServiceDep,
    metrics: MetricsDep,
    settings: SettingsDep,
    last: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    since: dt.datetime | None = None,
) -> dict[str, Any]:
    """Compare the last N (or since TIME) logged inputs with the served model's reference."""
    # lazy: Evidently (~10 s) only when a drift check runs
    from prices_predictor.monitoring.live import live_check

    m = service.model()
    if m.reference is None:
        raise HTTPException(404, detail="the served model has no training reference sample")
    predlog = service.predlog
    if predlog is not None:
        await run_in_threadpool(predlog.flush)
    reference = pd.read_parquet(m.reference)
    result = await run_in_threadpool(
        live_check,
        settings,
        reference,
        m.metadata.get("importance", []),
        m.model.spec,
        last=last,
        since=since,
        engine=predlog.engine if predlog is not None else None,
    )
    metrics.drift_share.set(result.share)
    metrics.drift_alert.set(1 if result.alert else 0)
    for f in result.top_features:
        metrics.drift_score.labels(f).set(result.scores.get(f, 0.0))
    return {**result.as_dict(), "model_version": m.version}


@router.get(
    "/drift/report", response_class=FileResponse, responses={404: {"description": "No report yet"}}
)
async def drift_report(settings: SettingsDep) -> FileResponse:
    """The latest live drift report (Evidently HTML)."""
    # lazy: Evidently (~10 s) only when a drift check runs
    from prices_predictor.monitoring.live import report_path

    path = report_path(settings)
    if not path.exists():
        raise HTTPException(404, detail="no drift report yet: call /v1/monitoring/drift first")
    return FileResponse(path, media_type="text/html")
