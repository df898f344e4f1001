"""Location effect from coordinates: how far the nearest training sales ran above the model.

Where a spec gives latitude and longitude instead of a parcel block, a house's effect is the
sum of the out-of-fold residuals (log price) of its ``k`` nearest training sales, shrunk as the
block effect is: ``effect = sum(residuals) / (k + prior)``. Sales farther than ``max_km``
do not count (fewer neighbours, more shrinkage); a house without coordinates gets 0. For the
CV metrics and the price range each training row uses its neighbours other than itself.
Distances are taken on a local flat projection (kilometres), exact enough within a city or
a county.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prices_predictor.core.table import Table
from prices_predictor.features.values import numeric, to_float

EARTH_KM = 6371.0088


@dataclass(frozen=True)
class CoordinateSpec:
    latitude: str
    longitude: str
    neighbours: int = 10
    prior: float = 10.0
    max_km: float | None = None


@dataclass(frozen=True)
class CoordinateEffect:
    spec: CoordinateSpec
    points: np.ndarray  # (n, 2) training sales, projected (km)
    residuals: np.ndarray  # (n,) their out-of-fold residuals
    lat0: float  # projection centre (degrees)
    _tree: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # lazy: scipy only for the coordinates location effect
        from scipy.spatial import cKDTree

        if not len(self.points):
            raise ValueError("a coordinate effect needs at least one located sale")
        object.__setattr__(self, "_tree", cKDTree(self.points))

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_tree"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    @classmethod
    def fit(
        cls, frame: pd.DataFrame, residuals: np.ndarray, spec: CoordinateSpec
    ) -> CoordinateEffect | None:
        """From the training rows with coordinates; None when none has them."""
        lat, lon = _coords(frame, spec, len(frame))
        ok = np.isfinite(lat) & np.isfinite(lon)
        if not ok.any():
            return None
        lat0 = float(np.mean(lat[ok]))
        points = project(lat[ok], lon[ok], lat0)
        return cls(spec, points, np.asarray(residuals, dtype=np.float64)[ok], lat0)

    @property
    def columns(self) -> list[str]:
        return [self.spec.latitude, self.spec.longitude]

    @property
    def source(self) -> str:
        return "location"

    def effect(self, rows: Any) -> np.ndarray:
        """The effect for raw rows (a DataFrame or a list of dicts keyed by column name)."""
        if not isinstance(rows, pd.DataFrame | Table) and len(rows) == 1:
            row = rows[0]
            one = np.array([to_float(row.get(self.spec.latitude))])
            return self._effects(one, np.array([to_float(row.get(self.spec.longitude))]))
        lat, lon = _coords(rows, self.spec, len(rows))
        return self._effects(lat, lon)

    def leave_one_out(self, frame: pd.DataFrame, residuals: np.ndarray) -> np.ndarray:
        """Each training row's effect from its neighbours other than itself (``frame`` is the
        training frame the effect was fitted on: its located rows are the points, in order)."""
        lat, lon = _coords(frame, self.spec, len(frame))
        return self._effects(lat, lon, own=True)

    def _effects(self, lat: np.ndarray, lon: np.ndarray, own: bool = False) -> np.ndarray:
        out = np.zeros(len(lat))
        ok = np.isfinite(lat) & np.isfinite(lon)
        if not ok.any():
            return out
        k = min(self.spec.neighbours + int(own), len(self.points))
        dist, idx = self._tree.query(
            project(lat[ok], lon[ok], self.lat0),
            k=k,
            distance_upper_bound=self.spec.max_km if self.spec.max_km is not None else np.inf,
            workers=1,
        )
        dist, idx = dist.reshape(len(dist), -1), idx.reshape(len(idx), -1)
        found = np.isfinite(dist)
        if own:  # drop the row itself (not merely a sale at the same spot), keep k others
            found &= idx != np.arange(len(idx))[:, None]
            found &= np.cumsum(found, axis=1) <= self.spec.neighbours
        res = np.where(found, self.residuals[np.minimum(idx, len(self.points) - 1)], 0.0)
        out[ok] = res.sum(axis=1) / (found.sum(axis=1) + self.spec.prior)
        return out

    def summary(self) -> dict[str, float]:
        return {
            "location_sales": float(len(self.points)),
            "location_effect_sd": float(np.std(self._effects_of_training())),
        }

    def _effects_of_training(self) -> np.ndarray:
        lat, lon = unproject(self.points, self.lat0)
        return self._effects(lat, lon, own=True)

    def describe(self) -> str:
        s = self.spec
        limit = f", within {s.max_km:g} km" if s.max_km is not None else ""
        return f"{s.neighbours} nearest sales{limit}, prior {s.prior:g}"

    def info(self) -> dict[str, Any]:
        s = self.spec
        return {
            "kind": "coordinates",
            "columns": self.columns,
            "neighbours": s.neighbours,
            "prior": s.prior,
            "max_km": s.max_km,
            "sales": len(self.points),
        }


def _coords(rows: Any, spec: CoordinateSpec, n: int) -> tuple[np.ndarray, np.ndarray]:
    lat: Any
    lon: Any
    if isinstance(rows, pd.DataFrame | Table):
        lat = np.asarray(rows[spec.latitude]) if spec.latitude in rows else None
        lon = np.asarray(rows[spec.longitude]) if spec.longitude in rows else None
    else:
        lat = [r.get(spec.latitude) for r in rows]
        lon = [r.get(spec.longitude) for r in rows]
    la, lo = numeric(lat, n), numeric(lon, n)
    bad = (np.abs(la) > 90) | (np.abs(lo) > 180)
    la[bad] = np.nan
    return la, lo


def project(lat: np.ndarray, lon: np.ndarray, lat0: float) -> np.ndarray:
    """Degrees -> kilometres on a plane tangent at latitude ``lat0`` (equirectangular)."""
    k = np.pi / 180.0 * EARTH_KM
    return np.column_stack([lon * k * np.cos(np.radians(lat0)), lat * k])


def unproject(points: np.ndarray, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    k = np.pi / 180.0 * EARTH_KM
    return points[:, 1] / k, points[:, 0] / (k * np.cos(np.radians(lat0)))
