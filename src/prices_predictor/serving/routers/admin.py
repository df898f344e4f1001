"""Token-protected operations: reload now."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from prices_predictor.serving.deps import AdminOnly, HolderDep, MetricsDep
from prices_predictor.serving.lifecycle import record_reload

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[AdminOnly],
    responses={
        401: {"description": "No bearer token"},
        403: {"description": "Wrong bearer token"},
        404: {"description": "Admin routes disabled (no PP_ADMIN_TOKEN)"},
    },
)


@router.post("/reload")
async def reload(holder: HolderDep, metrics: MetricsDep) -> dict[str, object]:
    """Load what the aliases point to now (off the event loop); failures keep the old model."""
    result = await run_in_threadpool(holder.reload)
    record_reload(holder, metrics, result)
    return {"result": result, "versions": {k: v.version for k, v in holder.variants.items()}}
