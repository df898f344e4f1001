"""One raw cell as a number, a category level or a date: the rules every layer shares."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

NONE = "None"  # the level of "the house has none of it"
NUMBER_TYPES = frozenset({int, float, np.float64, np.float32, np.int64, np.int32})


def is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def to_float(v: Any) -> float:
    """A cell as a float; NaN when it is not a number."""
    if v is None:
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def cat_value(v: Any) -> str | None:
    """A cell as a category level: stripped text, whole floats as integers ('20', not '20.0')."""
    if is_missing(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (np.integer, np.floating)):
        return cat_value(v.item())
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    return str(v).strip()


def decimal_year(v: Any) -> float:
    """A date cell as a decimal year (2010-07-02 -> 2010.5); a number is taken as one already;
    NaN when it is neither."""
    if type(v) is float or type(v) is int:
        return float(v)
    if isinstance(v, str):
        try:
            d = dt.date.fromisoformat(v.strip()[:10])
        except ValueError:
            return math.nan
        return _year_fraction(d)
    if isinstance(v, dt.date):  # datetime and pandas Timestamp too
        return _year_fraction(v)
    if isinstance(v, np.datetime64):
        return decimal_year(pd.Timestamp(v)) if not np.isnat(v) else math.nan
    return to_float(v)


YEARS = (1800.0, 2200.0)  # what a date sent as a number (a decimal year) may be


def sent_date(v: Any, dayfirst: bool = False) -> dt.date | float | None:
    """A date a client sent, read as the training file's dates were read: an ISO date or date
    time, the file's own writing (``3/12/2016``, day first where the file's dates are;
    ``20141013T000000``), or a decimal year (a number, as in a file). ValueError names what
    is accepted."""
    if v is None or isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        text = v.strip()
        if not text:
            return None
        try:
            return _decimal_year_cell(float(text))
        except ValueError:
            pass
        return _date_text(text, dayfirst)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError("a date is text (YYYY-MM-DD) or a decimal year")
    return _decimal_year_cell(float(v))


def _decimal_year_cell(year: float) -> float:
    if not math.isfinite(year) or not YEARS[0] <= year <= YEARS[1]:
        raise ValueError(
            f"a date sent as a number is a decimal year from {YEARS[0]:.0f} to {YEARS[1]:.0f}"
        )
    return year


def _date_text(text: str, dayfirst: bool) -> dt.date:
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        pass
    ts = _timestamps(pd.Series([text]), dayfirst).iloc[0]  # as the training column was read
    if pd.isna(ts):
        example = "25/12/2016, day first as in the training file" if dayfirst else "12/25/2016"
        raise ValueError(f"not a date: {text[:40]!r}; send YYYY-MM-DD (or {example})")
    return ts.date()  # type: ignore[no-any-return]


def _timestamps(cells: pd.Series, dayfirst: bool) -> pd.Series:
    """Text as dates the one way every path reads them (files, requests); NaT if not one.
    A date written with its UTC offset (``2022-05-01T00:00:00-04:00``, as pandas writes a
    zoned column) keeps its local day: the offset is dropped, not applied."""
    with warnings.catch_warnings():  # mixed offsets: pandas warns, then gives objects
        warnings.simplefilter("ignore", FutureWarning)
        ts = pd.to_datetime(cells, errors="coerce", format="mixed", dayfirst=dayfirst)
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        return ts.dt.tz_localize(None)
    if ts.dtype == object:
        local = [v.replace(tzinfo=None) if isinstance(v, dt.datetime) else None for v in ts]
        return pd.Series(pd.to_datetime(local, errors="coerce"), index=cells.index)
    return ts


def _year_fraction(d: dt.date) -> float:
    start = dt.date(d.year, 1, 1).toordinal()
    days = dt.date(d.year + 1, 1, 1).toordinal() - start
    return d.year + (d.toordinal() - start) / days


def numeric(values: Any, n: int) -> np.ndarray:
    """A column as a fresh float64 array; NaN where absent or not a number."""
    if values is None:
        return np.full(n, np.nan)
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        return values.astype(np.float64)
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)


def dates(values: Any, n: int, dayfirst: bool = False) -> np.ndarray:
    """A date column as decimal years (numbers are taken as decimal years already).
    ``dayfirst``: text such as 3/12/2016 is 3 December (ISO dates read the same either way)."""
    if values is None:
        return np.full(n, np.nan)
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64)
    ts = _timestamps(pd.Series(arr), dayfirst)
    if arr.dtype.kind == "O":  # numbers among text: decimal years as they are
        # (timestamps, as an Arrow body's zoned column arrives, are dates, not nanoseconds)
        stamps = np.array([isinstance(v, dt.date | np.datetime64) for v in arr], dtype=bool)
        plain = pd.Series(arr, dtype=object).mask(stamps)  # the dates aside
        nums = pd.to_numeric(plain, errors="coerce")
        ts = ts.where(nums.isna())
    year = ts.dt.year.to_numpy(dtype=np.float64, na_value=np.nan)
    start = pd.to_datetime(ts.dt.year.astype("Int64").astype(str) + "-01-01", errors="coerce")
    days = np.where(ts.dt.is_leap_year.fillna(False).to_numpy(dtype=bool), 366.0, 365.0)
    frac = (ts - start).dt.days.to_numpy(dtype=np.float64, na_value=np.nan) / days
    out = year + frac
    if arr.dtype.kind == "O":
        nums_arr = nums.to_numpy(dtype=np.float64, na_value=np.nan)
        out = np.where(np.isfinite(nums_arr), nums_arr, out)
    return out
