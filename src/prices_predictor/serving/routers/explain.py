"""Why this price: per-feature contributions for one house, as JSON or a waterfall PNG."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from prices_predictor.serving.deps import JsonBody, RequestIdDep, ServiceDep
from prices_predictor.serving.holder import CHAMPION
from prices_predictor.serving.routers.predict import ERRORS
from prices_predictor.serving.schemas import (
    Contribution,
    ExplainResponse,
    HouseFeatures,
    ModelRef,
    to_row,
)
from prices_predictor.serving.service import row_notes

router = APIRouter(tags=["explain"], dependencies=[JsonBody])
OTHERS = "all other features"


def contributions(
    sources: list[str], phi: np.ndarray, base: float, pred: float, row: dict[str, Any], top: int
) -> list[Contribution]:
    """Top features by |effect| plus one bucket for the rest; dollars split exactly.

    Dollar effects use the logarithmic mean of the two prices (LMDI), so they add up to
    price - base price exactly while each keeps the sign of its log effect.
    """
    price, base_price = float(np.expm1(pred)), float(np.expm1(base))
    lmean = (price - base_price) / (pred - base) if abs(pred - base) > 1e-12 else price
    order = np.argsort(-np.abs(phi))
    keep, rest = order[:top], order[top:]

    def item(name: str, v: float, value: Any = None) -> Contribution:
        return Contribution(
            feature=name,
            value=value,
            log_effect=round(v, 6),
            pct_effect=round(float(np.expm1(v) * 100), 3),
            dollar_effect=round(v * lmean, 2),
        )

    out = [item(sources[i], float(phi[i]), row.get(sources[i])) for i in keep]
    if len(rest):
        out.append(item(OTHERS, float(phi[rest].sum())))
    return out


@router.post(
    "/v1/explain",
    response_model=ExplainResponse,
    responses={**ERRORS, 200: {"content": {"image/png": {}}}},
)
async def explain(
    house: HouseFeatures,  # type: ignore[valid-type]
    request: Request,
    service: ServiceDep,
    rid: RequestIdDep,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
    format: Literal["json", "png"] = "json",
) -> Any:
    """Price one house and say why: base value plus per-feature contributions."""
    from prices_predictor.models.explain import explain as explain_rows

    m = service.model(CHAMPION)
    row = to_row(house)
    exp = await run_in_threadpool(explain_rows, m.model, [row])
    base = float(exp.base[0])
    phi = exp.values[0]
    pred = base + float(phi.sum())  # equals the model's log prediction (float32 trees: ~1e-5)
    items = contributions(exp.sources, phi, base, pred, row, top)
    request.scope.setdefault("state", {}).update(model_version=m.version, n_rows=1)
    if format == "png":
        from prices_predictor.evaluation.plots import waterfall_png

        png = await run_in_threadpool(
            waterfall_png, [(c.feature, c.log_effect) for c in items], base, pred
        )
        return Response(png, media_type="image/png", headers={"X-Model-Version": m.version})
    low, high = m.model.price_range(np.array([pred]))
    notes = row_notes(m.model, row)
    return ExplainResponse(
        request_id=rid,
        model=ModelRef(name=m.name, version=m.version, alias=m.alias, variant=CHAMPION),
        price=round(float(np.expm1(pred)), 2),
        price_low=round(float(low[0]), 2),
        price_high=round(float(high[0]), 2),
        base_price=round(float(np.expm1(base)), 2),
        base_value_log=base,
        prediction_log=pred,
        contributions=items,
        imputed=notes.imputed,
        warnings=notes.warnings,
    )
