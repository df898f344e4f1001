"""Ridge regression on log-transformed skewed features, standardised, with a few interactions;
never decreasing in the monotone columns (``monotone_ridge``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.stats import skew
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from prices_predictor.core.errors import UserError
from prices_predictor.models.base import FeatureContext, ModelStrategy
from prices_predictor.models.monotone_ridge import MonotoneRidge


class SkewLog(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Clip each column to its training range, then log1p the non-negative columns whose skew
    exceeds ``threshold`` (both chosen at fit).

    The clip keeps the Ridge from extrapolating: a house larger than any it was trained on
    is priced as the largest (trees behave so by construction). With the De Cock outliers
    removed from training, that matters for exactly such houses at prediction time.
    """

    def __init__(self, threshold: float = 0.75, clip: bool = True) -> None:
        self.threshold = threshold
        self.clip = clip

    def fit(self, X: np.ndarray, y: Any = None) -> SkewLog:
        X = np.asarray(X, dtype=np.float64)
        inf = np.full(X.shape[1], np.inf)
        self.lo_: np.ndarray = X.min(axis=0) if self.clip else -inf
        self.hi_: np.ndarray = X.max(axis=0) if self.clip else inf
        nonneg = (X >= 0).all(axis=0)
        many = np.array([len(np.unique(X[:, j])) > 10 for j in range(X.shape[1])])
        sk = np.zeros(X.shape[1])
        if many.any():
            sk[many] = np.nan_to_num(skew(X[:, many], axis=0))
        self.columns_ = np.where(nonneg & many & (np.abs(sk) > self.threshold))[0]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        out = np.array(X, dtype=np.float64, copy=True)
        lo, hi = self.bounds(out.shape[1])
        np.clip(out, lo, hi, out=out)
        out[:, self.columns_] = np.log1p(np.clip(out[:, self.columns_], 0, None))
        return out

    def bounds(self, n_features: int) -> tuple[np.ndarray, np.ndarray]:
        """The training range (unbounded for models saved before clipping existed)."""
        inf = np.full(n_features, np.inf)
        return getattr(self, "lo_", -inf), getattr(self, "hi_", inf)


class Interactions(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Append the products ``z[:, i] * z[:, j]`` of standardised columns, one per pair.

    A pair joins a numeric column with one level of a categorical, so that level gets its
    own slope (e.g. quality counts differently in a partial sale of a new house).
    """

    def __init__(self, pairs: tuple[tuple[int, int], ...] = ()) -> None:
        self.pairs = pairs

    def fit(self, X: np.ndarray, y: Any = None) -> Interactions:
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if not self.pairs:
            return X
        i, j = np.array(self.pairs, dtype=np.int64).T
        return np.hstack([X, X[:, i] * X[:, j]])


def check_interactions(spec: Any) -> list[tuple[str, str]]:
    """The ``interactions`` parameter as (column, nominal column) name pairs; a UserError
    naming the entry when it is not a list of pairs."""
    if not isinstance(spec, list | tuple):
        raise UserError(f"linear interactions: expected a list of [numeric, nominal], got {spec!r}")
    out = []
    for entry in spec:
        if not (
            isinstance(entry, list | tuple)
            and len(entry) == 2
            and all(isinstance(e, str) for e in entry)
        ):
            raise UserError(f"linear interactions: {entry!r} is not a [numeric, nominal] pair")
        out.append((str(entry[0]), str(entry[1])))
    return out


def resolve_interactions(
    spec: Any, scalar: tuple[str, ...], nominal: tuple[str, ...]
) -> list[tuple[str, str]]:
    """``check_interactions`` plus: the first name must be a one-column feature of the data
    spec (numeric, ordinal or engineered), the second a nominal one."""
    out = check_interactions(spec)
    for a, b in out:
        if scalar and a not in scalar:
            raise UserError(f"linear interactions: '{a}' is not a numeric or ordinal column")
        if nominal and b not in nominal:
            raise UserError(f"linear interactions: '{b}' is not a nominal column")
    return out


def interaction_pairs(
    spec: Any,
    feature_names: list[str],
    scalar: tuple[str, ...] = (),
    nominal: tuple[str, ...] = (),
) -> tuple[tuple[int, int], ...]:
    """Resolve ``[numeric, nominal]`` names to encoded column pairs: the numeric column with
    each one-hot level of the nominal one (none when the data has no such level)."""
    pairs: list[tuple[int, int]] = []
    for numeric, nominal_col in resolve_interactions(spec, scalar, nominal):
        i = feature_names.index(numeric)
        pairs += [(i, j) for j, n in enumerate(feature_names) if n.startswith(f"{nominal_col}=")]
    return tuple(pairs)


class LinearStrategy(ModelStrategy):
    name = "linear"
    description = "Ridge on standardised, log-skew features, a few interactions, monotone"

    def build(self, params: dict[str, Any], ctx: FeatureContext) -> Any:
        wanted = params.get("interactions", list(ctx.interactions))
        pairs = interaction_pairs(wanted, ctx.feature_names, ctx.scalar, ctx.nominal)
        return Pipeline(
            [
                (
                    "skewlog",
                    SkewLog(params.get("skew_threshold", 0.75), params.get("clip", True)),
                ),
                ("scale", StandardScaler()),
                ("interact", Interactions(pairs)),
                (
                    "ridge",
                    MonotoneRidge(params.get("alpha", 10.0), pairs, ctx.increasing, ctx.decreasing),
                ),
            ]
        )

    def suggest(self, trial: Any) -> dict[str, Any]:
        return {"alpha": trial.suggest_float("alpha", 0.1, 100.0, log=True)}


def is_linear(reg: Any) -> bool:
    """Our Ridge pipeline (models saved before interactions existed have a plain Ridge and
    no interaction step)."""
    if not isinstance(reg, Pipeline):
        return False
    kinds = [type(s) for _, s in reg.steps]
    return kinds in (
        [SkewLog, StandardScaler, Ridge],
        [SkewLog, StandardScaler, Interactions, MonotoneRidge],
    )


def linear_steps(
    pipe: Pipeline,
) -> tuple[SkewLog, StandardScaler, tuple[tuple[int, int], ...], Ridge]:
    """The Ridge pipeline's transform, scaler, interaction pairs and Ridge."""
    steps = [s for _, s in pipe.steps]
    pairs = steps[2].pairs if len(steps) == 4 else ()
    return steps[0], steps[1], tuple(pairs), steps[-1]


class LinearParts(NamedTuple):
    """Our Ridge pipeline as ``coef @ t(x) + intercept + sum(pair_coef * t(x)[i] * t(x)[j])``
    over ``pairs`` (i, j), the scaler folded in, where ``t`` clips x to [lo, hi] and takes
    log1p of the columns in ``log_cols``."""

    coef: np.ndarray
    intercept: float
    log_cols: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    pairs: np.ndarray  # (k, 2) column indices
    pair_coef: np.ndarray  # (k,)


def linear_parts(est: Any) -> LinearParts | None:
    """Our Ridge pipeline's parts; None if ``est`` is not one."""
    if not is_linear(est):
        return None
    skew, scaler, pairs, ridge = linear_steps(est)
    n = len(scaler.mean_)
    scale = np.asarray(scaler.scale_, dtype=np.float64)
    scale = np.where(scale == 0, 1.0, scale)
    mean = np.asarray(scaler.mean_, dtype=np.float64)
    coef = ridge.coef_[:n] / scale
    intercept = float(ridge.intercept_ - np.dot(mean, coef))
    # b * z_i * z_j with z = (t - mean) / scale expands into a product term plus linear ones
    ij = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    i, j = ij[:, 0], ij[:, 1]
    c = ridge.coef_[n:] / (scale[i] * scale[j])
    np.add.at(coef, i, -c * mean[j])
    np.add.at(coef, j, -c * mean[i])
    intercept += float(np.sum(c * mean[i] * mean[j]))
    return LinearParts(coef, intercept, skew.columns_, *skew.bounds(n), ij, c)
