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

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from prices_predictor.core.cells import dates
from prices_predictor.core.table import Coded, Table
from prices_predictor.spec.model import DataSpec, Feature, field_map
from prices_predictor.spec.requests import MAX_TEXT

SHOW_ROWS = 5
MAX_ID = 10**15

Bounds = tuple[float | None, float | None]
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
    _bounds: dict[tuple[str, int], Bounds] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, spec: DataSpec) -> TablePlan:
        names = field_map(spec)
        names.update({c: c for c in spec.inputs()})
        return cls(spec, names, {f.name: f for f in spec.features})

    def bounds(self, f: Feature, today: dt.date) -> Bounds:
        """A numeric feature's hard range (``current_year`` read once a year, not per
        request); a soft range is no rule for requests, as for the rows of ``predict``."""
        key = (f.name, today.year)
        got = self._bounds.get(key)
        if got is None:
            rule = f.range if f.range is not None and f.range.hard else None
            got = self._bounds[key] = rule.bounds(today) if rule else (None, None)
        return got


def check_table(
    columns: Mapping[str, Any], n: int, plan: TablePlan, prefix: str = ""
) -> TableCheck:
    """``columns``: name -> sequence of ``n`` cells, named by the spec's column names or their
    snake_case API names."""
    kinds = plan.kinds
    today = dt.date.today()
    ignored: list[str] = []
    errors: list[dict[str, str]] = []
    given: list[tuple[str, str, Any]] = []  # (name as sent, column, cells)
    seen: set[str] = set()
    for raw_name, values in columns.items():
        name = str(raw_name)
        column = plan.names.get(name)
        if column is None:
            ignored.append(name)
        elif column in seen:
            errors.append(_error(prefix, name, "duplicate", f"'{column}' is given twice"))
        elif len(values) != n:
            errors.append(_error(prefix, name, "length", f"{len(values)} values for {n} rows"))
        else:
            seen.add(column)
            given.append((name, column, values))
    if n and not given and not errors:
        # every cell would be imputed: the typical price, for any body (a semicolon file read
        # as one column, another model's columns), is no price of these houses
        sent = ", ".join(str(c) for c in list(columns)[:3]) or "none"
        expected = ", ".join(plan.spec.inputs()[:3])
        message = (
            f"none of the {len(columns)} columns sent ({sent}) is an input of the model "
            f"(expected e.g. {expected})"
        )
        refused = _error(prefix, "body", "no_model_input", message)
        return TableCheck(Table({}, n), ignored, [refused])
    parsed: dict[str, Any] = {**_number_block(given, n, plan, today), **_text_block(given, n, plan)}
    out: dict[str, Any] = {}
    for name, column, values in given:
        if column in parsed:
            out[column] = parsed[column]
            continue
        converted, problem = _column(plan, kinds.get(column), column, values, today)
        if problem is not None:
            errors.append({"field": f"{prefix}{name}", **problem})
        else:
            out[column] = converted
    return TableCheck(Table(out, n), ignored, errors)


def _column(
    plan: TablePlan, f: Feature | None, column: str, values: Any, today: dt.date
) -> tuple[Any, dict[str, str] | None]:
    if f is None:
        return _location(plan.spec, column, values)
    if f.kind == "numeric":
        return _numbers(values, plan.bounds(f, today))
    if f.kind == "date":
        return _dates(values, plan.spec.dayfirst)
    return _text(values)


PLAIN_NUMBERS = frozenset({int, float, type(None)})
TEXT_KINDS = frozenset({"nominal", "ordinal"})


def _number_block(
    given: list[tuple[str, str, Any]], n: int, plan: TablePlan, today: dt.date
) -> dict[str, np.ndarray]:
    """Numeric columns parsed from JSON (lists of numbers and nulls) converted and checked
    together: one conversion instead of a few numpy calls per column, the bulk of a
    100-house request. Anything unusual (text, true/false, infinity, a value out of range)
    leaves every column to the per-column checks, which name the rule and the rows."""
    block = [
        (column, values, f)
        for _, column, values in given
        if isinstance(values, list)
        and (f := plan.kinds.get(column)) is not None
        and f.kind == "numeric"
    ]
    if len(block) < 2 or not 0 < n <= SMALL_LIST:  # long columns: per column costs nothing
        return {}
    cells = [values for _, values, _ in block]
    if not set(map(type, chain.from_iterable(cells))) <= PLAIN_NUMBERS:
        return {}
    try:
        arr = np.array(cells, dtype=np.float64)  # null -> NaN (missing)
    except (OverflowError, ValueError, TypeError):
        return {}
    bounds = [plan.bounds(f, today) for _, _, f in block]
    lo = np.array([-np.inf if b[0] is None else b[0] for b in bounds])[:, None]
    hi = np.array([np.inf if b[1] is None else b[1] for b in bounds])[:, None]
    with np.errstate(invalid="ignore"):
        if np.isinf(arr).any() or (arr < lo).any() or (arr > hi).any():
            return {}
    return {column: arr[i] for i, (column, _, _) in enumerate(block)}


def _error(prefix: str, name: str, rule: str, message: str) -> dict[str, str]:
    return {"field": f"{prefix}{name}", "rule": rule, "message": message}


def _rows(bad: np.ndarray) -> str:
    idx = np.flatnonzero(bad)
    shown = ", ".join(str(i) for i in idx[:SHOW_ROWS])
    more = f" and {len(idx) - SHOW_ROWS} more" if len(idx) > SHOW_ROWS else ""
    return f"row{'s' if len(idx) > 1 else ''} {shown}{more}"


NUMBERS = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "empty"})


def _as_float(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Cells as float64 (NaN where missing) and which cells are not numbers at all (text;
    true/false among numbers). A column of true/false only is 1/0, as a training file's
    yes/no column of booleans was read (a Parquet ``bool``, a CSV's True/False)."""
    arr = values if isinstance(values, np.ndarray) else np.asarray(values)
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64), np.zeros(len(arr), dtype=bool)
    obj = arr if arr.dtype.kind == "O" else arr.astype(object)
    missing = pd.isna(obj)
    kind = pd.api.types.infer_dtype(obj, skipna=True)
    if kind in NUMBERS or kind == "boolean":  # numbers (or true/false) and nulls only
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


def _dates(values: Any, dayfirst: bool) -> tuple[np.ndarray, dict[str, str] | None]:
    years = dates(values, len(values), dayfirst)
    obj = np.asarray(values, dtype=object)
    missing = pd.isna(obj) | (obj == "")
    bad = np.isnan(years) & ~missing
    if bad.any():
        return years, {"rule": "date_parsing", "message": f"not a date in {_rows(bad)}"}
    return years, None


def _factorize_list(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """A short column parsed from JSON, factorised with a dict: pandas' fixed cost per call
    is larger than the work for a few hundred cells. None (JSON null) is missing."""
    levels, index = _distinct(values)
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    return codes, levels


def _distinct(values: list[Any]) -> tuple[list[Any], dict[Any, int]]:
    """The distinct cells in order of appearance, and cell -> code; None (JSON null) is not a
    level and codes -1. Raises TypeError for unhashable cells."""
    levels = list(dict.fromkeys(values))
    if None in levels:
        levels.remove(None)
        return levels, {**{v: i for i, v in enumerate(levels)}, None: -1}
    return levels, {v: i for i, v in enumerate(levels)}


def _text_block(given: list[tuple[str, str, Any]], n: int, plan: TablePlan) -> dict[str, Any]:
    """Text columns parsed from JSON (lists) factorised together, their codes made one numpy
    array: per column only a dict pass. Columns with anything but plain text (numbers,
    blanks, over-long text, objects) are left to ``_text``, which names the rule."""
    if not 0 < n <= SMALL_LIST:
        return {}
    names: list[str] = []
    level_lists: list[list[Any]] = []
    flat: list[int] = []
    for _, column, values in given:
        f = plan.kinds.get(column)
        if f is None or f.kind not in TEXT_KINDS or not isinstance(values, list):
            continue
        try:
            levels, index = _distinct(values)
        except TypeError:  # unhashable cells: ``_text`` refuses them
            continue
        if not levels or not all(map(_plain_text, levels)):
            continue
        names.append(column)
        level_lists.append(levels)
        flat.extend(map(index.__getitem__, values))
    if not names:
        return {}
    codes = np.fromiter(flat, dtype=np.int64, count=len(flat)).reshape(len(names), n)
    return {
        c: Coded(codes[i], lv) for i, (c, lv) in enumerate(zip(names, level_lists, strict=True))
    }


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
    if not all(_plain_text(v) for v in levels):
        codes, problem = _odd_levels(codes, levels)
        if problem is not None:
            return None, problem
    if not levels:
        return np.full(len(codes), None, dtype=object), None
    return Coded(np.asarray(codes, dtype=np.int64), levels), None


def _plain_text(v: Any) -> bool:
    """Text of 1..MAX_TEXT characters, not blank: nothing to check further (most levels)."""
    return type(v) is str and 0 < len(v) <= MAX_TEXT and not v.isspace()


def _odd_levels(codes: Any, levels: list[Any]) -> tuple[Any, dict[str, str] | None]:
    """Levels that are not plain text: numbers pass, other objects and text over MAX_TEXT
    characters are refused, blank text becomes missing."""
    odd = [i for i, v in enumerate(levels) if not isinstance(v, str | int | float | np.number)]
    if odd:
        where = _rows(np.isin(codes, odd))
        return codes, {"rule": "string_type", "message": f"not text or a number in {where}"}
    long = [i for i, v in enumerate(levels) if isinstance(v, str) and len(v) > MAX_TEXT]
    if long:
        message = f"over {MAX_TEXT} characters in {_rows(np.isin(codes, long))}"
        return codes, {"rule": "string_too_long", "message": message}
    blank = [i for i, v in enumerate(levels) if isinstance(v, str) and not v.strip()]
    if blank:  # an empty string is a missing value (a BYTES tensor has no null)
        codes = np.where(np.isin(codes, blank), -1, codes)
    return codes, None


def transpose(columns: Sequence[str], data: Sequence[Sequence[Any]]) -> dict[str, list[Any]]:
    """``dataframe_split``'s rows -> columns (without building a DataFrame of objects)."""
    if not data:
        return {c: [] for c in columns}
    return {c: list(v) for c, v in zip(columns, zip(*data, strict=True), strict=True)}
