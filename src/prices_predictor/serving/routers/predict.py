"""Single and batch predictions (``/v1``: strict request models, per-house notes)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import ORJSONResponse
from pydantic import ValidationError

from prices_predictor.core.aliases import CHAMPION
from prices_predictor.serving.deps import JsonBody, RequestIdDep, ServiceDep
from prices_predictor.serving.errors import InputError
from prices_predictor.serving.features import Filled, fill
from prices_predictor.serving.schemas import BatchResponse, ErrorResponse, PredictResponse
from prices_predictor.serving.service import PredictionService
from prices_predictor.tracking.loading import LoadedModel

router = APIRouter(tags=["predict"], dependencies=[JsonBody])
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Feature store on: no house with that id"},
    413: {"model": ErrorResponse},
    415: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
    503: {"description": "No model loaded, or the feature store cannot be read"},
}
THREADPOOL_ROWS = 64


def body_of(component: str) -> dict[str, Any]:
    """OpenAPI request body pointing at a schema generated from the served model's spec."""
    ref = {"$ref": f"#/components/schemas/{component}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


@router.post(
    "/v1/predict",
    response_model=None,
    responses={**ERRORS, 200: {"model": PredictResponse, "description": "The price"}},
    openapi_extra=body_of("HouseFeatures"),
)
async def predict(request: Request) -> ORJSONResponse:
    """Price one house, with an 80% range and the list of imputed features."""
    # Served by serving/fastpath.py ahead of FastAPI's router; this route documents the
    # endpoint (request body and PredictResponse, checked by the fuzz test) and serves it in
    # an app built without the fast path.
    service = request.app.state.service
    args = (service, await request.body(), request.scope["state"], client_id(request))
    if service.features is not None:  # the store's read may block
        body, version = await service.with_store(predict_one, *args)
    else:
        body, version = predict_one(*args)
    return ORJSONResponse(body, headers={"X-Model-Version": version})


def predict_one(
    service: PredictionService, raw: bytes, state: dict[str, Any], client: str | None
) -> tuple[dict[str, Any], str]:
    """Validate one house from its raw JSON, score it, log it: (response body, model version).

    Pydantic parses and validates the raw JSON in one pass against the request model of the
    answering model's spec, and the response is built by hand from validated numbers: this
    is the hot path.
    """
    t0 = time.perf_counter()
    variant = service.choose(client)
    m = service.model(variant)
    try:
        house = m.schema.house.model_validate_json(raw)
    except ValidationError as exc:
        raise InputError.from_validation(exc) from None
    rid: str = state["request_id"]
    filled = None
    if service.features is None:
        rows = [m.schema.to_row(house)]
    else:
        filled = fill(service.features, m, [house])
        rows = filled.rows
    scored = service.score(m, rows, variant)
    _annotate(state, m.version, rows, service.settings.log_payloads)
    service.log_predictions(
        m, variant, rid, rows, scored, (time.perf_counter() - t0) * 1000, client
    )
    if variant == CHAMPION:
        service.shadow(rid, rows, client)
    service.metrics.variant(variant).requests.inc()
    body = _prediction(
        float(scored.price[0]),
        float(scored.low[0]),
        float(scored.high[0]),
        m.model.interval_coverage,
        scored.imputed[0],
        scored.warnings[0],
    )
    if filled is not None:
        _add_sources(body, filled, 0, scored.imputed[0])
    body.update(
        request_id=rid, variant=variant, model_version=m.version, model=_model_ref(m, variant)
    )
    return body, m.version


@router.post(
    "/v1/predict/batch",
    response_model=None,
    responses={**ERRORS, 200: {"model": BatchResponse, "description": "One price per house"}},
    openapi_extra=body_of("BatchRequest"),
)
async def predict_batch(request: Request, service: ServiceDep, rid: RequestIdDep) -> ORJSONResponse:
    """Price up to PP_MAX_BATCH_ROWS houses."""
    t0 = time.perf_counter()
    client = client_id(request)
    variant = service.choose(client)
    m = service.model(variant)
    houses = parse_batch(m, await request.body())
    check_rows(len(houses), service.settings.max_batch_rows, "houses")
    filled = None
    if service.features is None:
        rows = [m.schema.to_row(h) for h in houses]
    else:
        filled = await service.with_store(fill, service.features, m, houses, "houses.")
        rows = filled.rows
    scored = await _score(service, m, rows, variant)
    _annotate(_state(request), m.version, rows, service.settings.log_payloads)
    service.log_predictions(
        m, variant, rid, rows, scored, (time.perf_counter() - t0) * 1000, client
    )
    if variant == CHAMPION:
        service.shadow(rid, rows, client)
    service.metrics.variant(variant).requests.inc()
    cov = m.model.interval_coverage
    # built by hand (BatchResponse documents it): validating 10,000 predictions as models
    # and serialising them through FastAPI cost more than scoring them
    body_out: dict[str, Any] = {
        "request_id": rid,
        "variant": variant,
        "model_version": m.version,
        "model": _model_ref(m, variant),
        "predictions": [
            _prediction(p, lo, hi, cov, imp, warn)
            for p, lo, hi, imp, warn in zip(
                scored.price.tolist(),
                scored.low.tolist(),
                scored.high.tolist(),
                scored.imputed,
                scored.warnings,
                strict=True,
            )
        ],
    }
    if filled is not None:
        for i, (pred, imputed) in enumerate(
            zip(body_out["predictions"], scored.imputed, strict=True)
        ):
            _add_sources(pred, filled, i, imputed)
    return ORJSONResponse(body_out, headers={"X-Model-Version": m.version})


def _add_sources(body: dict[str, Any], filled: Filled, i: int, imputed: list[str]) -> None:
    """Where each input came from, and the store's warnings (PP_FEATURE_STORE=feast)."""
    body["sources"] = {**filled.sources[i], "imputed": imputed}
    body["warnings"] = filled.warnings[i] + body["warnings"]


def parse_batch(m: LoadedModel, raw: bytes) -> list[Any]:
    """The houses of a batch body, validated by the model's request schema."""
    try:
        batch = m.schema.batch.model_validate_json(raw)
    except ValidationError as exc:
        raise InputError.from_validation(exc) from None
    houses: list[Any] = batch.houses  # type: ignore[attr-defined]
    return houses


def client_id(request: Request) -> str | None:
    """Sticky identity: the X-Client-ID header, else the page's cookie."""
    return sticky_id(request.headers.get("x-client-id"), request.cookies.get("pp_client"))


def sticky_id(header: str | None, cookie: str | None) -> str | None:
    cid = header or cookie
    return cid[:128] if cid else None


def check_rows(n: int, limit: int, field: str) -> None:
    if n > limit:
        raise InputError(field, "max_items", f"at most {limit} rows per request, got {n}")
    if n == 0:
        raise InputError(field, "min_items", "at least one row is required")


async def _score(service: Any, m: Any, rows: list[dict[str, Any]], variant: str) -> Any:
    if len(rows) > THREADPOOL_ROWS:
        return await run_in_threadpool(service.score, m, rows, variant)
    return service.score(m, rows, variant)


def _state(request: Request) -> dict[str, Any]:
    state: dict[str, Any] = request.scope.setdefault("state", {})
    return state


def _annotate_table(state: dict[str, Any], version: str, n_rows: int, ignored: list[str]) -> None:
    """What the access log reports about a columnar request (``middleware``)."""
    state["model_version"], state["n_rows"] = version, n_rows
    if ignored:
        state["ignored_columns"] = ignored[:50]


def _annotate(
    state: dict[str, Any], version: str, rows: list[dict[str, Any]], payloads: bool
) -> None:
    """What the access log reports about this request (see ``middleware``)."""
    state["model_version"], state["n_rows"] = version, len(rows)
    if payloads:
        state["payload"] = rows[:100]


def _prediction(
    price: float, low: float, high: float, coverage: float, imputed: list[str], warnings: list[str]
) -> dict[str, Any]:
    """One ``schemas.Prediction`` as the JSON the API answers (built by hand: hot path)."""
    return {
        "price": round(price, 2),
        "price_low": round(low, 2),
        "price_high": round(high, 2),
        "coverage": coverage,
        "imputed": imputed,
        "warnings": warnings,
    }


def _model_ref(m: Any, variant: str) -> dict[str, str]:
    return {"name": m.name, "version": m.version, "alias": m.alias, "variant": variant}
