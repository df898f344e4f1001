"""What the store holds, derived from a data spec and a data frame (no Feast here).

The entity is the spec's id column; every other input of the spec (features, location
columns) is a feature, named in snake_case as the API names it, grouped into one view per
kind. The event timestamp is the sale date (a date column, or the 1st of the sale month),
UTC; a spec without a sale date stamps every row at the epoch (its attributes hold "always").
A manifest written beside the repository says which column each field came from, so the
serving side can map store values back to the spec without importing Feast.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prices_predictor.core.errors import UserError
from prices_predictor.spec.model import DataSpec
from prices_predictor.spec.names import api_name

PROJECT = "prices_predictor"
ENTITY = "house"
TS = "event_timestamp"
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
GROUPS = ("numeric", "ordinal", "nominal", "location")


class FeatureStoreError(UserError):
    """The feature store is not set up for what was asked (no repository, no id column)."""


@dataclass(frozen=True)
class StoreField:
    name: str  # the feature's name in the store (snake_case)
    column: str  # the spec's column
    group: str  # its view: house_<group>
    dtype: str  # int64 | float64 | bool | string


@dataclass
class Manifest:
    """The repository's content: written by ``apply``, read by serving and training."""

    spec_name: str
    spec_digest: str
    id_column: str
    join_key: str
    id_dtype: str  # int64 | string
    fields: list[StoreField] = field(default_factory=list)
    rows: int = 0
    first_ts: str = ""
    last_ts: str = ""
    source: str = ""

    def view_names(self) -> list[str]:
        return sorted({f"{ENTITY}_{f.group}" for f in self.fields})

    def refs(self) -> list[str]:
        return [f"{ENTITY}_{f.group}:{f.name}" for f in self.fields]

    def by_column(self) -> dict[str, StoreField]:
        return {f.column: f for f in self.fields}

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        if not path.exists():
            raise FeatureStoreError(
                f"{path.parent}: no feature repository; run 'prices-predictor features apply'"
            )
        data = json.loads(path.read_text(encoding="utf-8"))
        data["fields"] = [StoreField(**f) for f in data.get("fields", [])]
        return cls(**data)


def require_id(spec: DataSpec) -> str:
    if not spec.id:
        raise FeatureStoreError(
            f"spec '{spec.name}' has no id column: the feature store keys houses by it "
            "(add 'id: COLUMN' to the spec)"
        )
    return spec.id


def group_of(spec: DataSpec, column: str) -> str:
    names = set(spec.names())
    if column not in names:
        return "location"
    kind = spec.feature(column).kind
    return kind if kind in ("ordinal", "nominal") else "numeric"


def store_dtype(values: pd.Series) -> str:
    dt = values.dtype
    if isinstance(dt, pd.CategoricalDtype):
        return store_dtype(pd.Series(np.asarray(values.cat.categories)))
    if pd.api.types.is_bool_dtype(dt):
        return "bool"
    if pd.api.types.is_integer_dtype(dt):
        return "int64"
    if pd.api.types.is_float_dtype(dt):
        return "float64"
    return "string"


def sale_timestamps(df: pd.DataFrame, spec: DataSpec) -> pd.Series:
    """Each row's event timestamp (UTC); NaT where its date cannot be read."""
    sd = spec.sale_date
    if sd is None:
        return pd.Series(EPOCH, index=df.index)
    if sd.column is not None:
        return pd.to_datetime(
            df[sd.column], errors="coerce", utc=True, format="mixed", dayfirst=spec.dayfirst
        )
    year = pd.to_numeric(df[sd.year], errors="coerce")
    month = pd.to_numeric(df[sd.month], errors="coerce") if sd.month else 1
    parts = pd.DataFrame({"year": year, "month": month, "day": 1}, index=df.index)
    return pd.to_datetime(parts, errors="coerce", utc=True)


def plan(spec: DataSpec, df: pd.DataFrame) -> Manifest:
    """The manifest of a repository holding ``df``'s houses under ``spec``."""
    id_col = require_id(spec)
    if id_col not in df.columns:
        raise FeatureStoreError(f"the data has no '{id_col}' column (the spec's id)")
    fields = [
        StoreField(api_name(c), c, group_of(spec, c), store_dtype(df[c]))
        for c in spec.inputs()
        if c != id_col and c in df.columns
    ]
    id_dtype = "int64" if store_dtype(df[id_col]) in ("int64", "float64") else "string"
    return Manifest(spec.name, spec.digest(), id_col, api_name(id_col), id_dtype, fields)


def source_frame(df: pd.DataFrame, manifest: Manifest, ts: pd.Series) -> pd.DataFrame:
    """The offline source: join key, event timestamp, then one column per field, in the
    dtypes the views declare (online and historical reads convert alike)."""
    out: dict[str, Any] = {manifest.join_key: _ids(df[manifest.id_column], manifest.id_dtype)}
    out[TS] = ts
    for f in manifest.fields:
        out[f.name] = _typed(df[f.column], f.dtype)
    frame = pd.DataFrame(out, index=df.index)
    keep = frame[manifest.join_key].notna() & frame[TS].notna()
    return frame[keep].reset_index(drop=True)


def _ids(values: pd.Series, dtype: str) -> pd.Series:
    if dtype == "int64":
        nums = pd.to_numeric(values, errors="coerce")
        return nums.astype("Int64")
    return values.astype("string").astype(object).where(values.notna(), None)


def _typed(values: pd.Series, dtype: str) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if dtype == "int64":
        return values.astype("Int64") if values.isna().any() else values.astype(np.int64)
    if dtype == "float64":
        return values.astype(np.float64)
    if dtype == "bool":
        return values.astype("boolean")
    return values.map(lambda v: None if _missing(v) else str(v)).astype(object)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT
