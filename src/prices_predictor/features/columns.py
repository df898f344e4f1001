"""The encoder's vectorised path: one numpy pass per column (batches, training, files)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from prices_predictor.core.table import Coded, Table
from prices_predictor.features.engineered import Compiled
from prices_predictor.features.plan import BY_GROUP, MEDIAN, ZERO, GroupFill, Plan
from prices_predictor.features.values import Distinct, dates, numeric


def columns_of(rows: Any, n: int, known: frozenset[str]) -> dict[str, Any]:
    """The ``known`` columns of a DataFrame, a Table or a list of dicts (absent ones left out)."""
    if isinstance(rows, Table):
        return {c: v for c, v in rows.columns.items() if c in known}
    if isinstance(rows, pd.DataFrame):
        return {
            c: col.array if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()
            for c, col in rows.items()
            if c in known
        }
    records: Sequence[Mapping[str, Any]] = rows
    return {c: [r.get(c) for r in records] for c in known if any(c in r for r in records)}


def read_numeric(values: Any, n: int, kind: str, dayfirst: bool = False) -> np.ndarray:
    """A numeric column as float64, a date column as decimal years (NaN where unusable)."""
    return dates(values, n, dayfirst) if kind == "date" else numeric(values, n)


def encode_columns(
    plan: Plan, engineered: Compiled, rows: Any, n: int, out: np.ndarray | None
) -> np.ndarray:
    cols = columns_of(rows, n, plan.features)
    # column-major: every column below is written contiguously
    if out is None:
        out = np.zeros((n, plan.n_features), dtype=np.float64, order="F")
    else:
        out.fill(0.0)
    for j, col, how, fill, group, source, is_date in plan.numeric:
        # a fresh array
        v = dates(cols.get(col), n, plan.dayfirst) if is_date else numeric(cols.get(col), n)
        miss = ~np.isfinite(v)
        if miss.any():  # imputed as in ``rows.encode_row``
            if how == MEDIAN:
                v[miss] = fill
            elif how == ZERO:
                v[miss] = 0.0
            elif how == BY_GROUP:
                assert group is not None
                g = Distinct.of(cols.get(group.column), n)
                v[miss] = _group_fill(group, g, fill)[g.codes[miss]]
            else:
                v[miss] = out[miss, source]
        out[:, j] = v
    flat = out.ravel(order="F")  # a view: column j of out is flat[j * n : (j + 1) * n]
    rows_idx = np.arange(n)
    for col, table, offset, one_hot, missing, presence, present in plan.categorical:
        codes, absent = _level_codes(cols.get(col), n, table, -1 if one_hot else 0, missing)
        if presence:  # a missing level of something present takes the present mode
            has = np.zeros(n, dtype=bool)
            for q in presence:
                has |= out[:, q] > 0
            codes[absent() & has] = present
        if not one_hot:
            out[:, offset] = codes
        elif codes.min(initial=0) >= 0:
            flat[(offset + codes) * n + rows_idx] = 1.0
        else:  # an unseen level: no column is set
            hit = codes >= 0
            flat[(offset + codes[hit]) * n + rows_idx[hit]] = 1.0
    inputs = [out[:, j] for j in range(plan.n_inputs)]
    for k, v in enumerate(engineered(inputs)):
        out[:, plan.engineered_at + k] = v
    return out


def _level_codes(
    values: Any, n: int, table: dict[str, int], unseen: int, missing: int
) -> tuple[np.ndarray, Callable[[], np.ndarray]]:
    """A categorical column's model codes, and (when asked) where it is missing."""
    if isinstance(values, Coded) and all(type(u) is str for u in values.levels):
        # checked text (a batch request): ``cat_value`` of text is the stripped text, never
        # missing, so -1 alone is missing and Distinct's remapping is not needed
        raw = values.codes
        mapped = [table.get(u.strip(), unseen) for u in values.levels]
        return np.array([*mapped, missing], dtype=np.int64)[raw], lambda: raw < 0
    dist = Distinct.of(values, n)
    mapped = [table.get(u, unseen) if u is not None else missing for u in dist.uniques]
    return np.array(mapped, dtype=np.int64)[dist.codes], lambda: dist.missing


def _group_fill(group: GroupFill, dist: Distinct, fill: float) -> np.ndarray:
    """The value to impute, per distinct group (a missing group: the modal one)."""
    names = [u if u is not None else group.mode for u in dist.uniques]
    return np.array([group.table.get(h, fill) for h in names])
