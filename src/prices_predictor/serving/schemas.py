"""Request and response schemas. Feature fields are snake_case; original Ames names work too."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, create_model

from prices_predictor.data import schema

THIS_YEAR = dt.date.today().year
MAX_AREA = 1_000_000.0
MAX_COUNT = 50


def _numeric_field(col: str) -> Any:
    kw: dict[str, Any] = {"allow_inf_nan": False}
    if col in schema.YEAR_COLUMNS:
        kw.update(ge=1800, le=THIS_YEAR + 1, description="year, 1800..next year")
    elif col in schema.SCORE_COLUMNS:
        kw.update(ge=1, le=10, description="score 1..10")
    elif col in schema.COUNT_COLUMNS:
        kw.update(ge=0, le=MAX_COUNT, description="count >= 0")
    elif col in schema.AREA_COLUMNS:
        kw.update(ge=0, le=MAX_AREA, description="area (sq ft) >= 0")
    elif col == "Mo Sold":
        kw.update(ge=1, le=12, description="month 1..12")
    elif col == "Misc Val":
        kw.update(ge=0, description="dollars >= 0")
    return float | None, Field(
        None, validation_alias=AliasChoices(schema.snake(col), col), title=col, **kw
    )


def _category_field(col: str) -> Any:
    if col == "MS SubClass":
        return int | str | None, Field(
            None,
            validation_alias=AliasChoices(schema.snake(col), col),
            title=col,
            description="dwelling class code, e.g. 20, 60",
        )
    levels = schema.ORDINAL.get(col)
    desc = f"one of {', '.join(levels)}" if levels else "category"
    return str | None, Field(
        None,
        max_length=64,
        validation_alias=AliasChoices(schema.snake(col), col),
        title=col,
        description=desc,
    )


_fields: dict[str, Any] = {}
for _c in schema.NUMERIC:
    _fields[schema.snake(_c)] = _numeric_field(_c)
for _c in schema.CATEGORICAL:
    _fields[schema.snake(_c)] = _category_field(_c)
_fields[schema.snake(schema.LOCATION_COLUMN)] = (
    int | None,
    Field(
        None,
        ge=0,
        lt=10**15,
        validation_alias=AliasChoices(schema.snake(schema.LOCATION_COLUMN), schema.LOCATION_COLUMN),
        title=schema.LOCATION_COLUMN,
        description="parcel id, a whole number >= 0; its block carries the location effect",
    ),
)

HouseFeatures = create_model(  # type: ignore[call-overload]
    "HouseFeatures",
    __config__=ConfigDict(
        extra="forbid",
        populate_by_name=True,
        str_strip_whitespace=True,
        json_schema_extra={
            "example": {
                "gr_liv_area": 1710,
                "overall_qual": 7,
                "neighborhood": "CollgCr",
                "year_built": 2003,
                "total_bsmt_sf": 856,
                "garage_cars": 2,
                "pid": 527105010,
            }
        },
    ),
    **_fields,
)
HouseFeatures.__doc__ = "One house; every field optional (missing ones are imputed)."


def to_row(house: BaseModel) -> dict[str, Any]:
    """Validated house -> dict keyed by original column names, nulls dropped."""
    return {schema.ORIGINAL_NAME[k]: v for k, v in house.__dict__.items() if v is not None}


class ModelRef(BaseModel):
    name: str
    version: str
    alias: str
    variant: str


class Prediction(BaseModel):
    price: float = Field(description="Predicted sale price, dollars.")
    price_low: float = Field(description="Lower end of the price range, dollars.")
    price_high: float = Field(description="Upper end of the price range, dollars.")
    coverage: float = Field(description="Nominal coverage of the range (e.g. 0.8).")
    imputed: list[str] = Field(description="Features missing from the input, imputed by the model.")
    warnings: list[str] = Field(default_factory=list)


class PredictResponse(Prediction):
    request_id: str
    variant: str = Field(description="A/B variant that answered: champion or challenger.")
    model_version: str
    model: ModelRef


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    houses: Annotated[list[HouseFeatures], Field(min_length=1)]  # type: ignore[valid-type]


class BatchResponse(BaseModel):
    request_id: str
    variant: str
    model_version: str
    model: ModelRef
    predictions: list[Prediction]


class LocationInfo(BaseModel):
    column: str = Field(description="Input field whose block carries the location effect.")
    divisor: int = Field(description="Block = column // divisor.")
    prior: float = Field(description="Shrinkage, in pseudo-sales at zero effect.")
    blocks: int = Field(description="Blocks learned from the training data.")


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
    categories: dict[str, list[str]] = Field(default_factory=dict)
    location: LocationInfo | None = Field(None, description="None: no location effect.")


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
