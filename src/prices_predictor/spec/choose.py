"""Which spec a training run uses, and the settings that override it.

``--spec FILE`` (or ``PP_SPEC``) loads that file; ``infer`` proposes one from the data; unset,
the Ames preset is used when every column of the file is an Ames column, else a spec is
inferred. A ``PP_`` setting set explicitly (target, outlier limit, location divisor, prior,
neighbours) then overrides the spec, so the spec stored with the model is what was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from prices_predictor.core.errors import DataError
from prices_predictor.core.settings import Settings
from prices_predictor.spec.infer import Decision, find_target, infer
from prices_predictor.spec.io import SpecFileError, from_dict, load_spec, preset
from prices_predictor.spec.model import DataSpec
from prices_predictor.spec.names import did_you_mean

INFER = "infer"
ROW_NUMBER = "Order"  # Ames' row number: an Ames column that is no feature


@dataclass
class Chosen:
    spec: DataSpec
    how: str  # "preset ames", "file x.yaml", "inferred"
    decisions: list[Decision]


def choose(
    df: pd.DataFrame,
    spec_arg: str | None,
    target: str | None,
    source: str,
    known: np.ndarray | None = None,
) -> Chosen:
    """The spec for ``df``; an inferred one reads the prices of the ``known`` rows only (the
    training part, when training)."""
    if spec_arg and spec_arg != INFER:
        spec = load_spec(spec_arg)
        if target:
            spec = retarget(spec, target)
        check_columns(spec, df, spec_arg, source)
        return Chosen(spec, f"file {spec_arg}", [])
    ames = preset("ames")
    if spec_arg != INFER and looks_like(df, ames, target):
        spec = retarget(ames, target) if target else ames
        return Chosen(spec, "preset ames (the columns are Ames')", [])
    want = target or ames.target.column
    cols = {str(c) for c in df.columns}
    if spec_arg != INFER and want not in cols and cols <= {*ames.inputs(), ROW_NUMBER}:
        hint = did_you_mean(want, df.columns)
        raise DataError(f"{source}: no '{want}' column (the sale price in dollars){hint}")
    try:
        found = infer(df, target, known=known)
    except DataError as exc:
        raise DataError(f"{source}: {exc}") from None
    return Chosen(from_dict(found.spec, "inferred spec"), "inferred", found.decisions)


def looks_like(df: pd.DataFrame, spec: DataSpec, target: str | None) -> bool:
    """Every column of the file is one of the spec's (or its row number), with its target,
    and it has at least half of the spec's features (with fewer, a spec inferred from the
    columns there are fits better than a preset that would impute the rest)."""
    known = {*spec.inputs(), spec.target.column, ROW_NUMBER}
    want = target or spec.target.column
    cols = {str(c) for c in df.columns}
    shared = cols & set(spec.names())
    return want in cols and cols <= known and 2 * len(shared) >= len(spec.features)


def retarget(spec: DataSpec, target: str) -> DataSpec:
    if target == spec.target.column:
        return spec
    data = spec.model_dump(mode="json")
    data["target"] = {**data["target"], "column": target}
    return from_dict(data, f"spec {spec.name} with target {target}")


def check_columns(spec: DataSpec, df: pd.DataFrame, spec_file: str, source: str) -> None:
    """A spec file that names columns the data lacks stops here, naming the entry."""
    cols = set(map(str, df.columns))
    if spec.target.column not in cols:
        raise SpecFileError(
            f"{spec_file}: target '{spec.target.column}': no such column in {source}"
        )
    if spec.missing_columns == "impute":
        return
    for i, f in enumerate(spec.features):
        if f.name not in cols:
            raise SpecFileError(
                f"{spec_file}: features[{i}] '{f.name}': no such column in {source}"
            )


def apply_settings(spec: DataSpec, s: Settings) -> DataSpec:
    """The spec with the ``PP_`` settings that were set explicitly applied."""
    data: dict[str, Any] = spec.model_dump(mode="json")
    if s.outlier_max is not None and data.get("outliers"):
        data["outliers"][0]["max"] = s.outlier_max
    loc = data.get("location")
    if loc is not None:
        if not s.location_effect:
            data["location"] = None
        else:
            for key, value in (
                ("divisor", s.location_divisor),
                ("prior", s.location_prior),
                ("neighbours", s.location_neighbours),
            ):
                if value is not None and key in _fields(loc["kind"]):
                    loc[key] = value
    if data == spec.model_dump(mode="json"):
        return spec
    return from_dict(data, f"spec {spec.name} with PP_ settings")


def _fields(kind: str) -> set[str]:
    return {"divisor", "prior"} if kind == "block" else {"neighbours", "prior"}


def target_of(df: pd.DataFrame, target: str | None) -> str:
    return find_target(df, target)
