"""Training frames as of each sale: ``get_historical_features`` (point-in-time join).

The sales file gives the labels, keys and sale dates; every store field comes from the store
as it was at the sale's timestamp. The frame has the sales file's columns in its order and
dtypes, so the training pipeline cannot tell it from the file itself when the store holds the
same attributes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from prices_predictor.core.settings import Settings
from prices_predictor.featurestore.layout import TS, FeatureStoreError, Manifest, sale_timestamps
from prices_predictor.featurestore.repo import open_store, paths, quiet
from prices_predictor.spec.model import DataSpec

ROW = "__pp_row"


@dataclass(frozen=True)
class TrainingFrame:
    frame: pd.DataFrame
    from_store: list[str]  # columns read from the store
    unmatched: int  # sales with no attributes in the store as of their date


def training_frame(s: Settings, spec: DataSpec, sales: pd.DataFrame) -> TrainingFrame:
    manifest = Manifest.read(paths(s).manifest)
    if spec.id != manifest.id_column:
        raise FeatureStoreError(
            f"the store is keyed by '{manifest.id_column}', the spec by '{spec.id}'"
        )
    if manifest.id_column not in sales.columns:
        raise FeatureStoreError(f"the sales have no '{manifest.id_column}' column (the id)")
    fields = [f for f in manifest.fields if f.column in sales.columns]
    key = manifest.join_key
    ids = pd.to_numeric(sales[manifest.id_column], errors="coerce")
    entity = pd.DataFrame(
        {
            key: ids.astype("Int64") if manifest.id_dtype == "int64" else sales[spec.id],
            TS: sale_timestamps(sales, spec),
        }
    )
    usable = entity[key].notna() & entity[TS].notna()
    # Feast's file store collapses duplicate (id, time) rows and drops rows older than every
    # source row: join distinct pairs, then map back onto every sale
    pairs = entity[usable].drop_duplicates().reset_index(drop=True)
    pairs[ROW] = np.arange(len(pairs))
    store = open_store(s)
    refs = [f"house_{f.group}:{f.name}" for f in fields]
    with quiet():
        got = store.get_historical_features(entity_df=pairs, features=refs).to_df()
    got = got.drop(columns=[key, TS]).set_index(ROW)
    joined = entity.merge(pairs, on=[key, TS], how="left")[ROW]
    found = got.reindex(joined.to_numpy())
    out = sales.copy()
    for f in fields:
        out[f.column] = _like(found[f.name].to_numpy(), sales[f.column])
    matched = joined.notna().to_numpy() & joined.isin(got.index).to_numpy()
    return TrainingFrame(out, [f.column for f in fields], int((~matched).sum()))


def _like(values: np.ndarray, original: pd.Series) -> pd.Series:
    """Store values in the sales file's dtype (nulls as the file has them)."""
    series = pd.Series(values, index=original.index)
    dtype = original.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return series.astype(dtype)
    if pd.api.types.is_integer_dtype(dtype) and not series.isna().any():
        return series.astype(dtype)
    if pd.api.types.is_numeric_dtype(dtype):
        return pd.to_numeric(series, errors="coerce").astype(np.float64)
    return series.astype(object).where(series.notna(), np.nan)
