"""Request models generated from the served model's spec.

Every feature of the spec is an optional field named in snake_case (``gr_liv_area``); the
spec's own column name (``"Gr Liv Area"``) is accepted too. Ranges, kinds and levels come from
the spec, so a request is checked by the rules the model was trained under and a field the
model does not know is a 422 naming it. Models are built once per spec (a hot reload to a
model with another spec switches to its schema) and kept in a small cache.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
)

from prices_predictor.core.cells import sent_date
from prices_predictor.spec.model import DataSpec, Feature
from prices_predictor.spec.names import api_name

MAX_TEXT = 64
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
Code = Annotated[int, Field(ge=-(10**15), le=10**15)]  # a category written as a number
_CONFIG = ConfigDict(extra="forbid", populate_by_name=False, str_strip_whitespace=True)


@dataclass(frozen=True)
class RequestSchema:
    """The pydantic models of one spec and the map back to its column names."""

    digest: str
    house: type[BaseModel]
    batch: type[BaseModel]
    columns: dict[str, str]  # internal field name -> column name
    api_names: dict[str, str]  # column name -> snake_case field name

    def to_row(self, house: BaseModel) -> dict[str, Any]:
        """Validated house -> dict keyed by the spec's column names, nulls dropped."""
        cols = self.columns
        return {cols[k]: v for k, v in house.__dict__.items() if v is not None}

    def record(self, data: dict[str, Any]) -> BaseModel:
        return self.house.model_validate(data)


_CACHE: OrderedDict[str, RequestSchema] = OrderedDict()
_LOCK = threading.Lock()


def request_schema(spec: DataSpec) -> RequestSchema:
    """The request models of ``spec`` (built on first use, then cached by its digest)."""
    key = spec.digest()
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    built = _build(spec, key)
    with _LOCK:
        _CACHE[key] = built
        while len(_CACHE) > 8:
            _CACHE.popitem(last=False)
    return built


def _build(spec: DataSpec, digest: str) -> RequestSchema:
    fields: dict[str, Any] = {}
    columns: dict[str, str] = {}
    names: dict[str, str] = {}
    features = {f.name: f for f in spec.features}
    for i, column in enumerate(spec.inputs()):
        f = features.get(column)
        alias = f.api_name if f is not None else api_name(column)
        key = f"f{i}"
        fields[key] = (
            _feature_field(f, alias, spec.dayfirst)
            if f is not None
            else _input_field(spec, column, alias)
        )
        columns[key] = column
        names[column] = alias
    house = create_model("HouseFeatures", __config__=_config(spec), **fields)  # type: ignore[call-overload]
    house.__doc__ = "One house; every field optional (missing ones are imputed)."
    batch = create_model(  # type: ignore[call-overload]
        "BatchRequest",
        __config__=ConfigDict(extra="forbid"),
        houses=(Annotated[list[house], Field(min_length=1)], ...),  # type: ignore[valid-type]
    )
    return RequestSchema(digest, house, batch, columns, names)


def _config(spec: DataSpec) -> ConfigDict:
    example: dict[str, Any] = {}
    for f in spec.features:
        if f.key:
            example[f.api_name] = _example(f)
    return ConfigDict(**_CONFIG, json_schema_extra={"example": example} if example else None)


def _example(f: Feature) -> Any:
    if f.kind == "ordinal":
        return list(f.ranks())[-1] if f.ranks() else "level"
    if f.kind == "nominal":
        return next(iter(f.level_labels), "level")
    if f.kind == "date":
        return dt.date.today().isoformat()
    lo, hi = f.range.bounds() if f.range is not None else (None, None)
    if lo is not None and hi is not None:
        return round((lo + hi) / 2) if hi - lo < 1e5 else round(lo + 1000)
    return 1


def _words(f: Feature) -> str:
    return f.label or f.name


def _feature_field(f: Feature, alias: str, dayfirst: bool) -> Any:
    aliases = AliasChoices(alias, f.name) if alias != f.name else alias
    common: dict[str, Any] = {"validation_alias": aliases, "title": f.name}
    if f.kind == "numeric":
        kw: dict[str, Any] = {"allow_inf_nan": False}
        rule = ""
        if f.range is not None:
            lo, hi = f.range.bounds()
            if f.range.hard:
                if lo is not None:
                    kw["ge"] = lo
                if hi is not None:
                    kw["le"] = hi
                rule = f", {_bounds(lo, hi)}"
            else:  # a soft rule: priced as sent (warned about outside the training range)
                rule = f", usually {_bounds(lo, hi)}"
        desc = f"{_words(f)}: a number{rule}"
        return float | None, Field(None, description=desc, **common, **kw)
    if f.kind == "date":
        written = ", or day first as the training file writes them" if dayfirst else ""
        desc = f"{_words(f)}: a date (YYYY-MM-DD{written}) or a decimal year (2016.5)"
        parse = BeforeValidator(partial(sent_date, dayfirst=dayfirst))
        return Annotated[dt.date | float | None, parse], Field(None, description=desc, **common)
    if f.kind == "ordinal":
        levels = list(f.ranks())
        desc = f"{_words(f)}: one of " + ", ".join(
            f"{lvl} ({f.level_labels[lvl]})" if lvl in f.level_labels else lvl for lvl in levels
        )
        return str | None, Field(
            None,
            description=desc,
            max_length=MAX_TEXT,
            json_schema_extra={"x-levels": list[Any](levels)},
            **common,
        )
    return Text | Code | None, Field(None, description=f"{_words(f)}: a category", **common)


def _input_field(spec: DataSpec, column: str, alias: str) -> Any:
    """A location or id column that is not a feature."""
    aliases = AliasChoices(alias, column) if alias != column else alias
    common: dict[str, Any] = {"validation_alias": aliases, "title": column}
    loc = spec.location
    if loc is not None and loc.kind == "block" and column == loc.column:
        desc = "parcel id, a whole number >= 0; its block carries the location effect"
        return int | None, Field(None, ge=0, lt=10**15, description=desc, **common)
    if loc is not None and loc.kind == "coordinates" and column in loc.columns():
        limit = 90.0 if column == loc.latitude else 180.0
        name = "latitude" if column == loc.latitude else "longitude"
        return float | None, Field(
            None,
            ge=-limit,
            le=limit,
            allow_inf_nan=False,
            description=f"{name} (degrees): the location effect",
            **common,
        )
    return Text | Code | None, Field(None, description="the house's id (not a feature)", **common)


def _bounds(lo: float | None, hi: float | None) -> str:
    def num(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else f"{v:g}"

    if lo is not None and hi is not None:
        return f"{num(lo)}..{num(hi)}"
    return f">= {num(lo)}" if lo is not None else f"<= {num(hi)}" if hi is not None else ""
