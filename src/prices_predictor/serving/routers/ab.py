"""Feedback on predictions, the A/B report, and runtime control of the experiment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, model_validator

from prices_predictor.ab.assign import Experiment
from prices_predictor.serving.deps import AdminOnly, JsonBody, ServiceDep
from prices_predictor.store.feedback import SALE, record, request_exists, variant_rows

router = APIRouter(tags=["ab"])


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: Annotated[str, Field(min_length=1, max_length=64)]
    event: Annotated[
        str | None,
        Field(None, min_length=1, max_length=64, description="Business event, e.g. lead_contacted"),
    ]
    value: bool | None = Field(None, description="Did the event happen?")
    actual_price: Annotated[float | None, Field(None, gt=0, le=1e9, allow_inf_nan=False)]

    @model_validator(mode="after")
    def _something(self) -> Feedback:
        if self.event is None and self.actual_price is None:
            raise ValueError("give an event (with value) and/or the actual_price")
        if self.event is not None and self.value is None:
            raise ValueError("an event needs a boolean value")
        return self


class ExperimentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    experiment_id: Annotated[str, Field(max_length=64)]
    weight: Annotated[float, Field(ge=0, le=1)]
    shadow: bool = False
    shadow_sample: Annotated[float, Field(gt=0, le=1)] = 1.0


@router.post(
    "/v1/feedback",
    dependencies=[JsonBody],
    responses={
        404: {"description": "Unknown request id"},
        422: {"description": "Invalid feedback"},
    },
)
async def feedback(body: Feedback, service: ServiceDep) -> dict[str, Any]:
    """Record an outcome for a prediction; repeating the same outcome is a no-op."""

    predlog = service.predlog
    if predlog is None:
        raise HTTPException(404, detail="no prediction log")
    await run_in_threadpool(predlog.flush)
    if not await run_in_threadpool(request_exists, predlog.engine, body.request_id):
        raise HTTPException(404, detail=f"unknown request_id '{body.request_id}'")
    stored = []
    if body.event is not None:
        new = await run_in_threadpool(
            record, predlog.engine, body.request_id, body.event, body.value, None
        )
        stored.append({"event": body.event, "new": new})
    if body.actual_price is not None:
        new = await run_in_threadpool(
            record, predlog.engine, body.request_id, SALE, None, body.actual_price
        )
        stored.append({"event": SALE, "new": new})
    return {"request_id": body.request_id, "stored": stored}


@router.get("/v1/ab/report")
async def ab_report(service: ServiceDep, event: str | None = None) -> dict[str, Any]:
    """Per-variant requests, conversion with 95% CI, test, online MAE/MAPE, and a verdict."""
    # lazy: scipy.stats (~0.8 s) only when a report is asked for, not at a server's start
    from prices_predictor.ab.report import analyse

    predlog = service.predlog
    if predlog is None:
        raise HTTPException(404, detail="no prediction log")
    await run_in_threadpool(predlog.flush)
    rows = await run_in_threadpool(variant_rows, predlog.engine, event or service.settings.ab_event)
    exp = service.experiment
    return {
        "experiment": {"id": exp.id, "weight": exp.weight, "shadow": exp.shadow},
        **analyse(rows).as_dict(),
    }


@router.post(
    "/admin/ab",
    dependencies=[AdminOnly, JsonBody],
    responses={401: {"description": "Bad token"}, 404: {"description": "Disabled"}},
)
async def set_experiment(body: ExperimentUpdate, service: ServiceDep) -> dict[str, Any]:
    """Change the experiment (id, weight, shadow) at runtime."""

    service.experiment = Experiment(
        body.experiment_id, body.weight, body.shadow, body.shadow_sample
    )
    return {"experiment": body.model_dump()}
