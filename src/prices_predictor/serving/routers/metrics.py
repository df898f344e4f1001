"""Prometheus scrape endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from prices_predictor.serving.deps import MetricsDep

router = APIRouter(tags=["ops"])


@router.get("/metrics", response_class=Response)
async def metrics(m: MetricsDep) -> Response:
    # off the event loop: the job figures are a Redis round trip
    body = await run_in_threadpool(generate_latest, m.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
