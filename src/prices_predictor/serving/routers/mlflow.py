"""MLflow's scoring protocol: ``/ping``, ``/version``, ``/invocations`` (JSON in MLflow's four
formats, CSV, Parquet, Arrow IPC), so MLflow's own client and ``mlflow models serve`` users
switch without changes.

Requests are columnar end to end (validated per column, encoded and scored per block, logged
as one record). As MLflow does, columns the model does not know are ignored: they are named
in the ``X-Ignored-Columns`` header and the access log instead of being refused.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import ORJSONResponse, PlainTextResponse

from prices_predictor import __version__
from prices_predictor.core.aliases import CHAMPION
from prices_predictor.core.table import Table
from prices_predictor.serving import bodies
from prices_predictor.serving.deps import RequestIdDep, ServiceDep
from prices_predictor.serving.errors import InputError
from prices_predictor.serving.routers.predict import ERRORS, _annotate_table, check_rows
from prices_predictor.serving.service import PredictionService, TableScore
from prices_predictor.spec.table import TablePlan, check_table
from prices_predictor.tracking.loading import LoadedModel

router = APIRouter(tags=["mlflow"])
THREADPOOL_ROWS = 64
IGNORED_HEADER = "X-Ignored-Columns"
LOG_INLINE_ROWS = 1000


@router.get("/ping", response_class=PlainTextResponse)
async def ping() -> PlainTextResponse:
    """Liveness, as MLflow's scoring server answers it (its client waits on this)."""
    return PlainTextResponse("\n")


@router.get("/version", response_class=PlainTextResponse)
async def version() -> PlainTextResponse:
    """This server's version, as plain text (MLflow answers its own version the same way)."""
    return PlainTextResponse(__version__)


@router.post(
    "/invocations",
    responses={**ERRORS, 200: {"description": '{"predictions": [price, ...]}'}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {t: {"schema": {"type": "object"}} for t in bodies.TYPES},
        }
    },
)
async def invocations(request: Request, service: ServiceDep, rid: RequestIdDep) -> Any:
    """MLflow scoring protocol: prices in dollars, in input order."""
    t0 = time.perf_counter()
    try:
        mime = bodies.media_type(request.headers.get("content-type"))
    except bodies.UnsupportedType as exc:
        return ORJSONResponse({"detail": exc.items}, status_code=415)
    m = service.model(CHAMPION)
    raw = await request.body()
    if mime == bodies.JSON and len(raw) < 100_000:
        result = score_body(service, m, mime, raw)
    else:
        result = await run_in_threadpool(score_body, service, m, mime, raw)
    table, scored, ignored = result
    state: dict[str, Any] = request.scope.setdefault("state", {})
    _annotate_table(state, m.version, len(table), ignored)
    await log_table(service, m, rid, table, scored, (time.perf_counter() - t0) * 1000)
    service.metrics.variant(CHAMPION).requests.inc()
    headers = {"X-Model-Version": m.version}
    if ignored:
        headers[IGNORED_HEADER] = ", ".join(ignored)[:1000]
    return ORJSONResponse({"predictions": scored.price.round(2).tolist()}, headers=headers)


async def log_table(
    service: PredictionService,
    m: LoadedModel,
    rid: str,
    table: Table,
    scored: TableScore,
    latency_ms: float,
) -> None:
    """Journal the batch before answering; a big one is encoded off the event loop."""
    if len(table) < LOG_INLINE_ROWS:
        service.log_table(m, CHAMPION, rid, table, scored, latency_ms)
    else:
        await run_in_threadpool(service.log_table, m, CHAMPION, rid, table, scored, latency_ms)


def score_body(
    service: PredictionService, m: LoadedModel, mime: str, raw: bytes
) -> tuple[Any, Any, list[str]]:
    """Parse, check per column, score: (table, prices, ignored columns); InputError if bad."""
    columns, n = bodies.parse(mime, raw)
    check_rows(n, service.settings.max_batch_rows, "rows")
    checked = check_table(columns, n, plan_of(m))
    if checked.errors:
        first = checked.errors[0]
        raise InputError(first["field"], first["rule"], first["message"], checked.errors)
    return checked.table, service.score_table(m, checked.table, CHAMPION), checked.ignored


def plan_of(m: LoadedModel) -> TablePlan:
    """The served model's table plan, made once per loaded model."""
    plan: TablePlan | None = getattr(m, "_table_plan", None)
    if plan is None:
        plan = TablePlan.of(m.model.spec)
        object.__setattr__(m, "_table_plan", plan)
    return plan
