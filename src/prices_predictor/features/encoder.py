"""The feature encoder compiled from a data spec: raw rows in, a dense float matrix out.

One implementation serves training, batch scoring and single-row serving, so the transform
the model was trained on is exactly the one applied when it serves. ``fit`` learns imputation
values, category levels and training ranges; the spec and those values are then compiled into
plans that the one-row path (``rows.encode_row``) and the vectorised path
(``columns.encode_columns``) walk. Encoded columns: numeric and date features, ordinal ranks,
engineered features, then one 0/1 column per nominal level seen often enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prices_predictor.core.table import Table
from prices_predictor.features import columns as vector
from prices_predictor.features import rows as scalar
from prices_predictor.features.engineered import compile_engineered
from prices_predictor.features.legacy import upgrade_state
from prices_predictor.features.plan import Plan, build_plan
from prices_predictor.features.values import NONE, NUMBER_TYPES, Distinct
from prices_predictor.spec.model import DataSpec, MedianBy

# Up to this many rows (from dicts), encode row by row in plain Python (measured crossover
# with the vectorised path: docs/performance.md).
SCALAR_N = 80

Rows = pd.DataFrame | Table | Sequence[Mapping[str, Any]]


@dataclass
class FeatureEncoder:
    """A spec plus what ``fit`` learned: imputation values, levels, the column layout."""

    spec: DataSpec
    medians: dict[str, float] = field(default_factory=dict)
    group_medians: dict[str, dict[str, float]] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    present_modes: dict[str, str] = field(default_factory=dict)
    levels: dict[str, list[str]] = field(default_factory=dict)
    feature_names: list[str] = field(default_factory=list)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)  # seen in training
    fitted: bool = False

    def _read(self, values: Any, n: int, name: str) -> np.ndarray:
        """A numeric or date feature's cells as numbers (dates as the spec's order reads them)."""
        return vector.read_numeric(values, n, self.spec.feature(name).kind, self.spec.dayfirst)

    # ---- fitting -------------------------------------------------------------------
    def fit(self, df: pd.DataFrame) -> FeatureEncoder:
        """Learn medians, modes, levels and ranges from training rows."""
        spec, n = self.spec, len(df)
        cols = vector.columns_of(df, n, self.known)
        for name in spec.numeric:
            v = self._read(cols.get(name), n, name)
            if spec.feature(name).missing_policy() == "zero":
                v = np.where(np.isfinite(v), v, 0.0)
            finite = v[np.isfinite(v)]
            self.medians[name] = float(np.nanmedian(v)) if len(finite) else 0.0
            if len(finite):
                self.ranges[name] = (float(finite.min()), float(finite.max()))
        for name in spec.numeric:
            policy = spec.feature(name).missing_policy()
            if isinstance(policy, MedianBy):
                group = Distinct.of(cols.get(policy.median_by), n).values()
                value = self._read(cols.get(name), n, name)
                frame = pd.DataFrame({"g": group, "v": value}).dropna()
                medians = frame.groupby("g")["v"].median()
                self.group_medians[name] = {str(k): float(v) for k, v in medians.items()}
        for name in spec.categorical:
            f = spec.feature(name)
            vals = pd.Series(Distinct.of(cols.get(name), n).values())
            if f.missing_policy() == "none":
                vals = vals.fillna(NONE)
            counts = vals.value_counts()
            self.modes[name] = str(counts.index[0]) if len(counts) else NONE
            if f.present_if:
                present = counts.drop(NONE, errors="ignore")
                self.present_modes[name] = str(present.index[0]) if len(present) else NONE
            if f.kind == "nominal":
                self.levels[name] = sorted(
                    str(k) for k, c in counts.items() if c >= spec.min_level_count
                )
        self.feature_names = [
            *self.scalar_columns,
            *(f"{c}={lvl}" for c in spec.nominal for lvl in self.levels[c]),
        ]
        self.fitted = True
        self._compile()
        return self

    @property
    def scalar_columns(self) -> list[str]:
        """The encoded columns before the one-hot levels: one column each, whatever the data."""
        s = self.spec
        return [*s.numeric, *s.ordinal, *(e.name for e in s.engineered)]

    @property
    def known(self) -> frozenset[str]:
        return frozenset(self.spec.names())

    def _compile(self) -> None:
        s = self.spec
        self._plan: Plan = build_plan(self)
        self._engineered = compile_engineered(s.engineered, [*s.numeric, *s.ordinal])

    # ---- pickling (models carry their encoder) -----------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        state["spec"] = self.spec.model_dump(mode="json")  # plain data: survives spec changes
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:

        state = upgrade_state(dict(state))
        self.__dict__.update(state)
        if self.fitted:
            self._compile()

    # ---- transforming ----------------------------------------------------------------
    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def index(self, name: str) -> int:
        return self.feature_names.index(name)

    def transform(self, rows: Rows, out: np.ndarray | None = None) -> np.ndarray:
        """Encode rows (DataFrame or list of dicts keyed by column name).

        ``out``, if given, is a column-major (n, n_features) float64 array to encode into:
        reusing one spares the page faults of fresh memory.
        """
        if not self.fitted:
            raise RuntimeError("FeatureEncoder.transform called before fit")
        n = len(rows)
        if out is not None and (
            out.shape != (n, self.n_features)
            or out.dtype != np.float64
            or not out.flags.f_contiguous
        ):
            raise ValueError(
                f"out must be a column-major float64 array of shape {(n, self.n_features)}"
            )
        if n <= SCALAR_N and not isinstance(rows, pd.DataFrame | Table):
            X = np.array(
                [scalar.encode_row(self._plan, self._engineered, r) for r in rows],
                dtype=np.float64,
            ).reshape(n, -1)
            if out is None:
                return X
            out[:] = X
            return out
        return vector.encode_columns(self._plan, self._engineered, rows, n, out)

    # ---- what a response or a report says about the input ------------------------------
    def out_of_range(self, row: Mapping[str, Any]) -> list[tuple[str, float, float, float]]:
        """(column, value, training min, training max) for numbers outside what training saw."""
        get: Any = row.get  # values are Any; only numbers get compared
        return [
            (c, float(v), lo, hi)
            for c, (lo, hi) in self.ranges.items()
            if type(v := get(c)) in NUMBER_TYPES and (v < lo or v > hi)
        ]

    def out_of_range_counts(self, rows: Rows) -> dict[str, int]:
        """``out_of_range`` for many rows: per column, how many lie outside the training range."""
        n = len(rows)
        cols = vector.columns_of(rows, n, self.known)
        counts = {}
        for c, (lo, hi) in self.ranges.items():
            if c in cols:
                v = self._read(cols[c], n, c)
                if k := int(((v < lo) | (v > hi)).sum()):
                    counts[c] = k
        return counts

    def missing_counts(self, rows: Rows, names: Iterable[str]) -> dict[str, int]:
        """``missing_features`` for many rows: per column, how many rows the encoder imputes
        (absent, null, or a number that is not finite)."""
        n = len(rows)
        cols = vector.columns_of(rows, n, self.known)
        numeric = set(self.spec.numeric)
        counts = {}
        for c in names:
            if c in numeric:
                v = self._read(cols.get(c), n, c)
                k = int((~np.isfinite(v)).sum())
            else:
                k = int(Distinct.of(cols.get(c), n).missing.sum())
            if k:
                counts[c] = k
        return counts

    def missing_features(self, row: Mapping[str, Any]) -> list[str]:
        """Names of spec features absent or null in one input row."""
        get, na = row.get, pd.NA
        # is_missing inlined: runs for every API request
        return [
            c
            for c in self._plan.feature_order
            if (v := get(c)) is None or v is na or (isinstance(v, float) and v != v)
        ]

    def typical(self) -> dict[str, Any]:
        """What a missing value becomes, per feature (the page shows it as the default)."""
        out: dict[str, Any] = {}
        for f in self.spec.features:
            if f.categorical:
                out[f.name] = self.modes.get(f.name)
            else:
                out[f.name] = self.medians.get(f.name)
        return out
