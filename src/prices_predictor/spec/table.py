"""A table of houses that arrives by columns (MLflow ``dataframe_split``, CSV, Parquet, Arrow,
Open Inference Protocol inputs), checked and converted column by column with numpy.

The rules are the request models' (``requests``), applied to whole columns: a number where
the spec wants one (finite, inside the spec's range), whole numbers >= 0 for a parcel id,
dates, text of at most 64 characters. Missing cells (null, NaN, empty) are missing values,
imputed by the model, as MLflow clients send them. Errors name the column, the rule and the
first offending rows. Columns the spec does not know are set aside and reported, as MLflow's
server does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prices_predictor.core.cells import dates
from prices_predictor.core.table import Coded, Table
from prices_predictor.spec.model import DataSpec, Feature, field_map
from prices_predictor.spec.requests import MAX_TEXT

SHOW_ROWS = 5
MAX_ID = 10**15

SMALL_LIST = 2000  # up to this many cells, a column from JSON is factorised in Python


@dataclass
class TableCheck:
    table: Table  # the spec's columns, converted (numbers float64, text as Categorical)
    ignored: list[str] = field(default_factory=list)  # columns the spec does not know
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class TablePlan:
    """What ``check_table`` needs of a spec, computed once per spec."""

    spec: DataSpec
    names: dict[str, str]  # accepted name -> column
    kinds: dict[str, Feature]

    @classmethod
    def of(cls, spec: DataSpec) -> TablePlan:
        names = field_map(spec)
        names.update({c: c for c in spec.inputs()})
        return cls(spec, names, {f.name: f for f in spec.features})


def check_table(
    columns: Mapping[str, Any], n: int, plan: TablePlan, prefix: str = ""
) -> TableCheck:
    """``columns``: name -> sequence of ``n`` cells, named by the spec's column names or their
    snake_case API names."""
    spec, names, kinds = plan.spec, plan.names, plan.kinds
    out: dict[str, Any] = {}
    ignored: list[str] = []
    errors: list[dict[str, str]] = []
    for raw_name, values in columns.items():
        name = str(raw_name)
        column = names.get(name)
        if column is None:
            ignored.append(name)
            continue
        if column in out:
            errors.append(_error(prefix, name, "duplicate", f"'{column}' is given twice"))
            continue
        if len(values) != n:
            errors.append(_error(prefix, name, "length", f"{len(values)} values for {n} rows"))
            continue
        f = kinds.get(column)
        where = f"{prefix}{name}"
        if f is None:
            converted, problem = _location(spec, column, values)
        elif f.kind == "numeric":
            converted, problem = _numbers(values, f.range.bounds() if f.range else (None, None))
        elif f.kind == "date":
            converted, problem = _dates(values)
        else:
            converted, problem = _text(values)
        if problem is not None:
            errors.append({"field": where, **problem})
            continue
        out[column] = converted
    return TableCheck(Table(out, n), ignored, errors)


def _error(prefix: str, name: str, rule: str, message: str) -> dict[str, str]:
    return {"field": f"{prefix}{name}", "rule": rule, "message": message}


def _rows(bad: np.ndarray) -> str:
    idx = np.flatnonzero(bad)
    shown = ", ".join(str(i) for i in idx[:SHOW_ROWS])
    more = f" and {len(idx) - SHOW_ROWS} more" if len(idx) > SHOW_ROWS else ""
    return f"row{'s' if len(idx) > 1 else ''} {shown}{more}"


NUMBERS = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "empty"})


def _as_float(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Cells as float64 (NaN where missing) and which cells are not numbers at all (text,
    true/false)."""
    arr = values if isinstance(values, np.ndarray) else np.asarray(values)
    if arr.dtype.kind in "fiu":
        return arr.astype(np.float64), np.zeros(len(arr), dtype=bool)
    if arr.dtype.kind == "b":
        return arr.astype(np.float64), np.ones(len(arr), dtype=bool)
    obj = arr if arr.dtype.kind == "O" else arr.astype(object)
    missing = pd.isna(obj)
    if pd.api.types.infer_dtype(obj, skipna=True) in NUMBERS:  # numbers and nulls only
        return np.where(missing, np.nan, obj).astype(np.float64), np.zeros(len(obj), dtype=bool)
    missing |= obj == ""
    nums = pd.to_numeric(pd.Series(obj), errors="coerce").to_numpy(dtype=np.float64)
    bools = np.array([isinstance(v, bool | np.bool_) for v in obj], dtype=bool)
    bad = (np.isnan(nums) & ~missing) | bools
    return np.where(missing, np.nan, nums), bad


def _numbers(
    values: Any, bounds: tuple[float | None, float | None]
) -> tuple[np.ndarray, dict[str, str] | None]:
    v, bad = _as_float(values)
    if bad.any():
        return v, {"rule": "float_parsing", "message": f"not a number in {_rows(bad)}"}
    if np.isinf(v).any():
        return v, {"rule": "finite_number", "message": f"not finite in {_rows(np.isinf(v))}"}
    lo, hi = bounds
    with np.errstate(invalid="ignore"):
        if lo is not None and (low := v < lo).any():
            return v, {
                "rule": f"greater_than_equal {lo:g}",
                "message": f"below {lo:g} in {_rows(low)}",
            }
        if hi is not None and (high := v > hi).any():
            return v, {
                "rule": f"less_than_equal {hi:g}",
                "message": f"above {hi:g} in {_rows(high)}",
            }
    return v, None


def _location(spec: DataSpec, column: str, values: Any) -> tuple[Any, dict[str, str] | None]:
    loc = spec.location
    if loc is not None and loc.kind == "coordinates" and column in loc.columns():
        limit = 90.0 if column == loc.latitude else 180.0
        return _numbers(values, (-limit, limit))
    if loc is not None and loc.kind == "block" and column == loc.column:
        v, problem = _numbers(values, (0, MAX_ID))
        if problem is None and ((v != np.floor(v)) & np.isfinite(v)).any():
            frac = (v != np.floor(v)) & np.isfinite(v)
            problem = {"rule": "int_from_float", "message": f"not a whole number in {_rows(frac)}"}
        return v, problem
    return _text(values)


def _dates(values: Any) -> tuple[np.ndarray, dict[str, str] | None]:
    years = dates(values, len(values))
    obj = np.asarray(values, dtype=object)
    missing = pd.isna(obj) | (obj == "")
    bad = np.isnan(years) & ~missing
    if bad.any():
        return years, {"rule": "date_parsing", "message": f"not a date in {_rows(bad)}"}
    return years, None


def _factorize_list(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """A short column parsed from JSON, factorised with a dict: pandas' fixed cost per call
    is larger than the work for a few hundred cells. None (JSON null) is missing."""
    index: dict[Any, int] = {}
    codes = [-1 if v is None else index.setdefault(v, len(index)) for v in values]
    return np.array(codes, dtype=np.int64), list(index)


def _text(values: Any) -> tuple[Any, dict[str, str] | None]:
    """A text column factorised (each distinct value checked, and later encoded, once)."""
    if isinstance(values, Coded):
        codes, levels = values.codes, list(values.levels)
    elif isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        cat = pd.Categorical(values)
        codes, levels = np.asarray(cat.codes), list(cat.categories)
    elif isinstance(values, list) and len(values) <= SMALL_LIST:
        try:
            codes, levels = _factorize_list(values)
        except TypeError:  # unhashable cells (lists, objects)
            return None, {"rule": "string_type", "message": "not text or a number"}
    else:
        obj = np.asarray(values, dtype=object)
        try:
            codes, uniq = pd.factorize(obj, use_na_sentinel=True)
        except TypeError:  # unhashable cells (lists, objects)
            return None, {"rule": "string_type", "message": "not text or a number"}
        levels = list(uniq)
    odd = [i for i, v in enumerate(levels) if not isinstance(v, str | int | float | np.number)]
    if odd:
        where = _rows(np.isin(codes, odd))
        return None, {"rule": "string_type", "message": f"not text or a number in {where}"}
    long = [i for i, v in enumerate(levels) if isinstance(v, str) and len(v) > MAX_TEXT]
    if long:
        message = f"over {MAX_TEXT} characters in {_rows(np.isin(codes, long))}"
        return None, {"rule": "string_too_long", "message": message}
    blank = [i for i, v in enumerate(levels) if isinstance(v, str) and not v.strip()]
    if blank:  # an empty string is a missing value (a BYTES tensor has no null)
        codes = np.where(np.isin(codes, blank), -1, codes)
    if not levels:
        return np.full(len(codes), None, dtype=object), None
    return Coded(np.asarray(codes, dtype=np.int64), levels), None


def transpose(columns: Sequence[str], data: Sequence[Sequence[Any]]) -> dict[str, list[Any]]:
    """``dataframe_split``'s rows -> columns (without building a DataFrame of objects)."""
    if not data:
        return {c: [] for c in columns}
    return {c: list(v) for c, v in zip(columns, zip(*data, strict=True), strict=True)}
