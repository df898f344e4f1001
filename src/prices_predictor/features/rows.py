"""The encoder's one-row path: plain Python over the compiled plan (one API request)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prices_predictor.features.engineered import Compiled
from prices_predictor.features.plan import BY_GROUP, MEDIAN, ZERO, Plan
from prices_predictor.features.values import cat_value, decimal_year, to_float


def encode_row(plan: Plan, engineered: Compiled, r: Mapping[str, Any]) -> list[float]:
    """One row, with the same semantics as ``columns.encode_columns``, ~10x faster for one.

    Runs once per API request, so it walks plans precomputed by ``plan.build_plan``.
    """
    vals = [0.0] * plan.n_features
    get = r.get
    for j, col, how, fill, group, source, is_date in plan.numeric:
        v = get(col)
        if is_date:
            v = decimal_year(v)
        else:
            v = float(v) if type(v) is float or type(v) is int else to_float(v)
        if v - v != 0.0:  # NaN or infinite: impute
            if how == MEDIAN:
                v = fill
            elif how == ZERO:
                v = 0.0
            elif how == BY_GROUP:
                assert group is not None
                level = cat_value(get(group.column)) or group.mode
                v = group.table.get(level, fill)
            else:
                v = vals[source]
        vals[j] = v
    for col, table, offset, one_hot, missing, presence, present in plan.categorical:
        raw = get(col)
        key = raw.strip() if type(raw) is str else cat_value(raw)
        if key is not None:
            code = table.get(key, -1 if one_hot else 0)
        elif presence and any(vals[q] > 0 for q in presence):
            code = present
        else:
            code = missing
        if not one_hot:
            vals[offset] = float(code)
        elif code >= 0:
            vals[offset + code] = 1.0
    j = plan.engineered_at
    for v in engineered(vals):
        vals[j] = float(v)
        j += 1
    return vals
