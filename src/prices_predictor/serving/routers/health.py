"""Liveness, readiness, model card."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from prices_predictor.serving.card import form_fields
from prices_predictor.serving.deps import HolderDep
from prices_predictor.serving.schemas import LocationInfo, ModelInfo

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "No model loaded yet"}})
async def ready(holder: HolderDep) -> JSONResponse:
    """200 once a real model is loaded; 503 with the reason before. ``preloaded``: batch
    kernels and explanations are loaded too (until then their first use pays for it)."""
    m = holder.get()
    if m is None:
        return JSONResponse(
            {"status": "not ready", "reason": holder.last_error or "loading"}, status_code=503
        )
    return JSONResponse(
        {
            "status": "ready",
            "model_version": m.version,
            "variants": sorted(holder.variants),
            "preloaded": m.preloaded.is_set(),
        }
    )


@router.get(
    "/v1/model",
    response_model=ModelInfo,
    responses={404: {"description": "No challenger"}, 503: {"description": "Not ready"}},
)
async def model_info(
    holder: HolderDep, variant: Literal["champion", "challenger"] = "champion"
) -> ModelInfo | JSONResponse:
    """Name, version, alias, metrics and features of the served model."""
    m = holder.get(variant)
    if m is None:
        code = 503 if variant == "champion" else 404
        return JSONResponse({"detail": f"no '{variant}' model loaded"}, status_code=code)
    meta = m.metadata
    tags = meta.get("tags", {})
    return ModelInfo(
        name=m.name,
        version=m.version,
        alias=m.alias,
        source=m.source,
        strategy=m.model.strategy,
        metrics={k: float(v) for k, v in meta.get("metrics", {}).items()},
        features=m.model.spec.names(),
        trained_at=meta.get("trained_at", ""),
        data_fingerprint=tags.get("data_fingerprint", ""),
        interval_coverage=m.model.interval_coverage,
        loaded_at=m.loaded_at,
        importance=meta.get("importance", [])[:30],
        categories={
            **{f.name: list(f.ranks()) for f in m.model.spec.features if f.kind == "ordinal"},
            **m.model.encoder.levels,
        },
        location=LocationInfo(**m.model.location.info()) if m.model.location else None,
        spec=m.model.spec.to_data(),
        spec_digest=m.schema.digest,
        fields=form_fields(m.model, m.schema.api_names),
    )
