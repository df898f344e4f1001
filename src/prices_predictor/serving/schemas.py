"""Response schemas (the request schemas come from the served model's spec:
``request_schema``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ModelRef(BaseModel):
    name: str
    version: str
    alias: str
    variant: str


class Sources(BaseModel):
    store: list[str] = Field(description="Fields read from the feature store by the house's id.")
    request: list[str] = Field(description="Fields the request sent (they override the store).")
    imputed: list[str] = Field(description="Fields neither gave: imputed by the model.")


class Prediction(BaseModel):
    price: float = Field(description="Predicted sale price, dollars.")
    price_low: float = Field(description="Lower end of the price range, dollars.")
    price_high: float = Field(description="Upper end of the price range, dollars.")
    coverage: float = Field(description="Nominal coverage of the range (e.g. 0.8).")
    imputed: list[str] = Field(description="Features missing from the input, imputed by the model.")
    warnings: list[str] = Field(default_factory=list)
    sources: Sources | None = Field(
        None, description="Feature store on: where each input came from."
    )


class PredictResponse(Prediction):
    request_id: str
    variant: str = Field(description="A/B variant that answered: champion or challenger.")
    model_version: str
    model: ModelRef


class BatchResponse(BaseModel):
    request_id: str
    variant: str
    model_version: str
    model: ModelRef
    predictions: list[Prediction]


class LocationInfo(BaseModel):
    kind: str = Field("block", description="block (parcel id // divisor) or coordinates.")
    columns: list[str] = Field(default_factory=list, description="Input columns it reads.")
    column: str | None = Field(None, description="block: the parcel id column.")
    divisor: int | None = Field(None, description="block: block = column // divisor.")
    prior: float = Field(description="Shrinkage, in pseudo-sales at zero effect.")
    blocks: int | None = Field(None, description="block: blocks learned from training data.")
    neighbours: int | None = Field(None, description="coordinates: nearest sales used.")
    max_km: float | None = Field(None, description="coordinates: farther sales do not count.")
    sales: int | None = Field(None, description="coordinates: located training sales.")


class ModelInfo(BaseModel):
    name: str
    version: str
    alias: str
    source: str
    strategy: str
    metrics: dict[str, float]
    features: list[str]
    trained_at: str
    data_fingerprint: str
    interval_coverage: float
    loaded_at: str
    importance: list[dict[str, Any]] = Field(default_factory=list)
    categories: dict[str, list[str]] = Field(
        default_factory=dict, description="Levels the model knows, per categorical column."
    )
    location: LocationInfo | None = Field(None, description="None: no location effect.")
    spec: dict[str, Any] = Field(default_factory=dict, description="The model's data spec.")
    spec_digest: str = ""
    fields: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The request fields in form order (key features first): name, column, "
        "kind, label, levels with labels, range, typical value.",
    )


class ErrorItem(BaseModel):
    field: str
    rule: str
    message: str


class ErrorResponse(BaseModel):
    detail: list[ErrorItem] | str


class Contribution(BaseModel):
    feature: str = Field(description="Source feature (one-hot columns folded back).")
    value: Any = Field(None, description="The input value, when given.")
    log_effect: float = Field(description="Contribution to log price.")
    pct_effect: float = Field(description="Approximate effect on the price, percent.")
    dollar_effect: float = Field(description="Approximate effect on the price, dollars.")


class ExplainResponse(BaseModel):
    request_id: str
    model: ModelRef
    price: float
    price_low: float
    price_high: float
    base_price: float = Field(description="The model's average price (all contributions zero).")
    base_value_log: float
    prediction_log: float
    contributions: list[Contribution] = Field(
        description="Sorted by |effect|; the last item sums all other features."
    )
    imputed: list[str]
    warnings: list[str] = Field(default_factory=list)
    sources: Sources | None = None
