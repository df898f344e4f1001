"""FastAPI dependencies, as ``Annotated`` aliases."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from prices_predictor.core.settings import Settings
from prices_predictor.jobs.files import JobFiles
from prices_predictor.jobs.queue import JobQueue
from prices_predictor.serving.holder import ModelHolder
from prices_predictor.serving.metrics import Metrics
from prices_predictor.serving.service import PredictionService


async def get_settings_dep(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


async def get_holder(request: Request) -> ModelHolder:
    h: ModelHolder = request.app.state.holder
    return h


async def get_service(request: Request) -> PredictionService:
    svc: PredictionService = request.app.state.service
    return svc


async def get_job_queue(request: Request) -> JobQueue:
    q: JobQueue = request.app.state.jobs
    return q


async def get_job_files(request: Request) -> JobFiles:
    f: JobFiles = request.app.state.job_files
    return f


async def get_metrics(request: Request) -> Metrics:
    m: Metrics = request.app.state.metrics
    return m


async def require_json(request: Request) -> None:
    ctype = request.headers.get("content-type", "")
    if request.method == "POST" and not is_json(ctype):
        raise HTTPException(415, detail=not_json_detail(ctype))


def is_json(content_type: str) -> bool:
    return "json" in content_type.split(";")[0].lower()


def not_json_detail(content_type: str) -> list[dict[str, str]]:
    return [
        {
            "field": "content-type",
            "rule": "application/json",
            "message": f"expected application/json, got '{content_type}'",
        }
    ]


async def require_admin(request: Request) -> None:
    s: Settings = request.app.state.settings
    if not s.admin_token:
        raise HTTPException(404, detail="admin routes are disabled (PP_ADMIN_TOKEN is not set)")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            401,
            detail="admin routes need 'Authorization: Bearer <PP_ADMIN_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # constant time: the comparison must not tell a caller how much of the token matched
    if not hmac.compare_digest(token.strip().encode(), s.admin_token.encode()):
        raise HTTPException(403, detail="wrong admin token")


async def request_id(request: Request) -> str:
    rid: str = request.scope.get("state", {}).get("request_id", "")
    return rid


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
ServiceDep = Annotated[PredictionService, Depends(get_service)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
QueueDep = Annotated[JobQueue, Depends(get_job_queue)]
FilesDep = Annotated[JobFiles, Depends(get_job_files)]
RequestIdDep = Annotated[str, Depends(request_id)]
JsonBody = Depends(require_json)
AdminOnly = Depends(require_admin)
