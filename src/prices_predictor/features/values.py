"""Reading raw cell values: numbers, dates (as decimal years) and category levels."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from prices_predictor.core.cells import (
    NONE,
    NUMBER_TYPES,
    cat_value,
    dates,
    decimal_year,
    numeric,
    to_float,
)
from prices_predictor.core.table import Coded

IDENTITY_MIN_ROWS = 1000  # see ``factorize``
IDENTITY_MAX_DISTINCT = 256
__all__ = ["NONE", "NUMBER_TYPES", "Distinct", "cat_value", "dates", "decimal_year", "numeric"]
__all__ += ["factorize", "to_float"]


@dataclass
class Distinct:
    """A categorical column as codes into its distinct normalised values.

    The last entry of ``uniques`` is always None: the code of every missing value.
    """

    codes: np.ndarray
    uniques: list[str | None]

    @classmethod
    def of(cls, values: Any, n: int) -> Distinct:
        if values is None:
            return cls(np.zeros(n, dtype=np.int64), [None])
        if isinstance(values, Coded):
            codes, raw = values.codes.astype(np.int64, copy=False), list(values.levels)
        elif isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
            cat = pd.Categorical(values)
            codes, raw = cat.codes.astype(np.int64), list(cat.categories)
        else:
            codes, raw = factorize(np.asarray(values, dtype=object))
        uniques = [cat_value(u) for u in raw] + [None]
        missing = [i for i, u in enumerate(uniques) if u is None]  # e.g. pd.NA, NaN, None
        if len(missing) > 1 or codes.min(initial=0) < 0:
            remap = np.arange(len(uniques))
            remap[missing] = len(uniques) - 1
            codes = remap[codes]  # pandas' -1 picks the last entry too
        return cls(codes, uniques)

    def values(self) -> np.ndarray:
        """Object array of stripped category strings, None where missing; 20.0 becomes '20'.

        Ames has trailing blanks in some levels ('WD '); JSON clients and the API strip them.
        """
        return np.array(self.uniques, dtype=object)[self.codes]

    @property
    def missing(self) -> np.ndarray:
        return self.codes == len(self.uniques) - 1


def factorize(values: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Codes into distinct values, and those values; missing ones may map to -1.

    Columns read from Parquet or Arrow hold one string object per distinct value (pyarrow
    deduplicates them), so grouping the objects by identity finds the same groups as
    comparing strings, ~2.5x faster (docs/performance.md). Equal strings that are different
    objects just make duplicate entries, which the caller maps alike; with many distinct
    objects (strings parsed one by one, e.g. from JSON) it compares values instead.
    """
    n = len(values)
    if n >= IDENTITY_MIN_ROWS:
        values = np.ascontiguousarray(values)
        # the array's slots hold object addresses; reading them as integers groups by identity
        ids = np.ctypeslib.as_array((ctypes.c_size_t * n).from_address(values.ctypes.data))
        first, codes = _first_of_each(ids)
        if first is not None:
            return codes, [values[i] for i in first]
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), list(uniq)


def _first_of_each(ids: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Codes of equal ids and the first row holding each (None when too many distinct).

    ``pd.factorize`` numbers values in order of first appearance, so a code's first row is
    where the running maximum of the codes steps up."""
    codes, distinct = pd.factorize(ids)
    if len(distinct) > IDENTITY_MAX_DISTINCT:
        return None, codes
    codes = codes.astype(np.int64, copy=False)
    top = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.concatenate([[True], top[1:] > top[:-1]]))
    return first, codes
