"""Location effect from a parcel id: how far a block's sales ran above or below the model.

Houses in the same block share what the features cannot say (street, view, builder). The
effect of a block is learned from the model's out-of-fold residuals (log price) on the
training part, shrunk towards zero as if each block also had ``prior`` sales on the model:
``effect = sum(residuals) / (sales + prior)``. A block is the parcel id integer-divided by
``divisor`` (Ames: PID // 1000, the plat block). It is added to the model's log prediction;
a house without a parcel id, or in a block the training data never saw, gets 0. The effect
from coordinates instead of blocks is ``features/coordinates.py``; both answer to the same
methods (``columns``, ``source``, ``effect``, ``leave_one_out``, ``summary``, ``info``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prices_predictor.core.table import Table

NO_BLOCK = -1


@dataclass(frozen=True)
class LocationSpec:
    """How to learn the effect: which column, how coarse a block, how much shrinkage."""

    column: str = "PID"
    divisor: int = 1000
    prior: float = 10.0


@dataclass(frozen=True)
class LocationEffect:
    spec: LocationSpec
    keys: np.ndarray  # sorted block ids
    effects: np.ndarray  # log-price effect per block
    counts: np.ndarray  # training sales per block
    _lookup: _Lookup = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not len(self.keys):
            raise ValueError("a location effect needs at least one block")
        object.__setattr__(self, "_lookup", _Lookup(self.keys, self.effects))

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_lookup"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        object.__setattr__(self, "_lookup", _Lookup(self.keys, self.effects))

    @classmethod
    def fit(cls, values: Any, residuals: np.ndarray, spec: LocationSpec) -> LocationEffect:
        """Per-block shrunk mean of ``residuals`` (rows without a block are ignored)."""
        blocks = block_ids(values, spec.divisor)
        known = blocks != NO_BLOCK
        keys, inverse = np.unique(blocks[known], return_inverse=True)
        sums = np.bincount(inverse, weights=residuals[known], minlength=len(keys))
        counts = np.bincount(inverse, minlength=len(keys))
        return cls(spec, keys, sums / (counts + spec.prior), counts)

    @property
    def columns(self) -> list[str]:
        return [self.spec.column]

    @property
    def source(self) -> str:
        """Its name among an explanation's contributions: the parcel id column."""
        return self.spec.column

    def leave_one_out(self, frame: pd.DataFrame, residuals: np.ndarray) -> np.ndarray:
        """Each training row's effect from the other rows of its block only (for honest CV)."""
        blocks = block_ids(frame[self.spec.column], self.spec.divisor)
        idx = np.minimum(np.searchsorted(self.keys, blocks), len(self.keys) - 1)
        found = (self.keys[idx] == blocks) & (blocks != NO_BLOCK)
        n = self.counts[idx]
        total = self.effects[idx] * (n + self.spec.prior)
        return np.where(found, (total - residuals) / (n - 1 + self.spec.prior), 0.0)

    def effect(self, rows: Any) -> np.ndarray:
        """The effect for raw rows (a DataFrame or a list of dicts keyed by column name)."""
        col = self.spec.column
        if isinstance(rows, pd.DataFrame | Table):
            if col not in rows:
                return np.zeros(len(rows))
            return self._lookup.many(block_ids(pd.Series(rows[col]), self.spec.divisor))
        if len(rows) == 1:
            return np.array([self.effect_of(rows[0].get(col))])
        return self._lookup.many(block_ids([r.get(col) for r in rows], self.spec.divisor))

    def effect_of(self, value: Any) -> float:
        """One parcel id's effect, without numpy (the one-house request path)."""
        if type(value) is int:  # what the API hands over
            return self._lookup.by_key.get(value // self.spec.divisor, 0.0) if value >= 0 else 0.0
        if value is None:
            return 0.0
        return float(self._lookup.many(block_ids([value], self.spec.divisor))[0])

    def summary(self) -> dict[str, float]:
        """For tracking: how many blocks, how many sales they hold, the spread of effects."""
        return {
            "location_blocks": float(len(self.keys)),
            "location_sales": float(self.counts.sum()),
            "location_effect_sd": float(np.std(self.effects)),
        }

    def describe(self) -> str:
        return f"{self.spec.column} // {self.spec.divisor}, prior {self.spec.prior:g}"

    def info(self) -> dict[str, Any]:
        """What the model card says about it."""
        return {
            "kind": "block",
            "columns": self.columns,
            "column": self.spec.column,
            "divisor": self.spec.divisor,
            "prior": self.spec.prior,
            "blocks": len(self.keys),
        }


class _Lookup:
    """Block id -> effect: a dense table over the span of block ids when it is small (Ames:
    ~400k slots, 3 MB; a gather is ~25x faster than a binary search over random ids), a hash
    index otherwise; a dict for single ids."""

    DENSE_MAX = 1 << 21

    def __init__(self, keys: np.ndarray, effects: np.ndarray) -> None:
        self.by_key = dict(zip(keys.tolist(), effects.tolist(), strict=True))
        self.lo = int(keys[0])
        span = int(keys[-1]) - self.lo + 1
        self.index: pd.Index | None = None
        if span <= self.DENSE_MAX:
            self.table = np.zeros(span + 1)  # the last slot answers every miss: 0
            self.table[keys - self.lo] = effects
        else:
            self.index = pd.Index(keys)
            self.table = np.append(effects, 0.0)  # get_indexer's -1 (absent) picks the 0

    def many(self, blocks: np.ndarray) -> np.ndarray:
        if self.index is not None:
            return self.table[self.index.get_indexer(pd.Index(blocks))]
        j = blocks - self.lo
        miss = len(self.table) - 1
        j[(j < 0) | (j >= miss)] = miss  # NO_BLOCK is negative: a miss too
        return self.table[j]


def block_ids(values: Any, divisor: int) -> np.ndarray:
    """Parcel ids -> block ids (int64); missing, negative, fractional, text -> NO_BLOCK."""
    if isinstance(values, list):
        # numbers and None (-> NaN), as the API hands them over; text stays for to_numeric
        with contextlib.suppress(TypeError, ValueError):
            values = pd.Series(np.array(values, dtype=np.float64))
    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    if pd.api.types.is_integer_dtype(s.dtype) and isinstance(s.dtype, np.dtype):
        ints = s.to_numpy()
        return np.where(ints >= 0, ints // divisor, NO_BLOCK).astype(np.int64, copy=False)
    if not pd.api.types.is_numeric_dtype(s.dtype):
        s = pd.to_numeric(s.astype(object), errors="coerce")
    v = s.to_numpy(np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(v) & (v >= 0) & (v == np.floor(v))
    out = np.full(len(v), NO_BLOCK, dtype=np.int64)
    out[ok] = np.floor(v[ok] / divisor).astype(np.int64)
    return out
