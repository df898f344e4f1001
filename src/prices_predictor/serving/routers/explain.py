"""Why this price: per-feature contributions for one house, as JSON or a waterfall PNG."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from prices_predictor.core.aliases import CHAMPION
from prices_predictor.serving.deps import JsonBody, RequestIdDep, ServiceDep
from prices_predictor.serving.errors import InputError
from prices_predictor.serving.features import fill
from prices_predictor.serving.routers.predict import ERRORS, body_of
from prices_predictor.serving.schemas import Contribution, ExplainResponse, ModelRef
from prices_predictor.serving.service import row_notes

router = APIRouter(tags=["explain"], dependencies=[JsonBody])


@router.post(
    "/v1/explain",
    response_model=ExplainResponse,
    responses={**ERRORS, 200: {"content": {"image/png": {}}}},
    openapi_extra=body_of("HouseFeatures"),
)
async def explain(
    request: Request,
    service: ServiceDep,
    rid: RequestIdDep,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
    format: Literal["json", "png"] = "json",
) -> Any:
    """Price one house and say why: base value plus per-feature contributions."""
    # lazy: scikit-learn, SHAP: off a server's start (the preload thread imports them)
    from prices_predictor.models.explain import explain as explain_rows
    from prices_predictor.models.explain import top_contributions

    m = service.model(CHAMPION)
    try:
        house = m.schema.house.model_validate_json(await request.body())
    except ValidationError as exc:
        raise InputError.from_validation(exc) from None
    filled = None
    if service.features is None:
        row = m.schema.to_row(house)
    else:
        filled = await service.with_store(fill, service.features, m, [house])
        row = filled.rows[0]
    exp = await run_in_threadpool(explain_rows, m.model, [row])
    base = float(exp.base[0])
    phi = exp.values[0]
    pred = base + float(phi.sum())  # equals the model's log prediction (float32 trees: ~1e-5)
    prices = m.model.to_price(np.array([pred, base]))
    items = [
        Contribution(**c)
        for c in top_contributions(exp.sources, phi, (base, pred), prices, row, top)
    ]
    request.scope.setdefault("state", {}).update(model_version=m.version, n_rows=1)
    if format == "png":
        # lazy: scikit-learn, SHAP: off a server's start (the preload thread imports them)
        from prices_predictor.evaluation.plots import waterfall_png

        png = await run_in_threadpool(
            waterfall_png, [(c.feature, c.log_effect) for c in items], base, pred
        )
        return Response(png, media_type="image/png", headers={"X-Model-Version": m.version})
    low, high = m.model.price_range(np.array([pred]))
    notes = row_notes(m.model, row, m.schema.api_names)
    price, base_price = prices
    return ExplainResponse(
        request_id=rid,
        model=ModelRef(name=m.name, version=m.version, alias=m.alias, variant=CHAMPION),
        price=round(float(price), 2),
        price_low=round(float(low[0]), 2),
        price_high=round(float(high[0]), 2),
        base_price=round(float(base_price), 2),
        base_value_log=base,
        prediction_log=pred,
        contributions=items,
        imputed=notes.imputed,
        warnings=(filled.warnings[0] if filled else []) + notes.warnings,
        sources={**filled.sources[0], "imputed": notes.imputed} if filled else None,
    )
