"""Fitting a strategy on the training part: CV metrics, conformal range, final fit."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from prices_predictor.data.split import log_target
from prices_predictor.evaluation.metrics import conformal_halfwidth
from prices_predictor.features.coordinates import CoordinateEffect, CoordinateSpec
from prices_predictor.features.encoder import FeatureEncoder
from prices_predictor.features.location import LocationEffect, LocationSpec, block_ids
from prices_predictor.models.base import FeatureContext
from prices_predictor.models.price_model import LocationModel, PriceModel
from prices_predictor.models.strategies import get_strategy, params_for
from prices_predictor.models.weights import REWEIGHT_MIN_GAIN, choose_weights, rmse
from prices_predictor.spec.model import DataSpec

Location = LocationSpec | CoordinateSpec
log = logging.getLogger(__name__)


@dataclass
class FitResult:
    model: PriceModel
    cv_rmse_mean: float
    cv_rmse_std: float
    oof_pred: np.ndarray
    fit_seconds: float


def context_for(encoder: FeatureEncoder, seed: int, n_jobs: int) -> FeatureContext:
    """Monotone constraints (the spec's promises, on the encoded columns they name), the
    interactions and the names the strategies may refer to."""
    spec = encoder.spec
    names = encoder.feature_names
    promises = spec.monotone()
    monotone = tuple(promises.get(n, 0) for n in names)
    return FeatureContext(
        names,
        monotone,
        seed=seed,
        n_jobs=n_jobs,
        interactions=tuple(tuple(p) for p in spec.interactions),  # type: ignore[misc]
        scalar=tuple(encoder.scalar_columns),
        nominal=tuple(spec.nominal),
    )


def build_regressor(
    name: str,
    all_params: dict[str, dict[str, Any]],
    encoder: FeatureEncoder,
    seed: int,
    n_jobs: int,
) -> Any:
    return get_strategy(name).build(
        params_for(name, all_params), context_for(encoder, seed, n_jobs)
    )


def cross_validate(
    train: pd.DataFrame,
    name: str,
    all_params: dict[str, dict[str, Any]],
    spec: DataSpec,
    folds: int,
    seed: int,
    n_jobs: int,
) -> np.ndarray:
    """Out-of-fold predictions (target scale); the encoder is refitted inside every fold."""
    y = log_target(train, spec.target.column, spec.target.transform)
    oof = np.empty(len(train))
    for fit_idx, val_idx in KFold(folds, shuffle=True, random_state=seed).split(train):
        part = train.iloc[fit_idx]
        enc = FeatureEncoder(spec).fit(part)
        reg = build_regressor(name, all_params, enc, seed, n_jobs)
        reg.fit(enc.transform(part), y[fit_idx])
        oof[val_idx] = reg.predict(enc.transform(train.iloc[val_idx]))
    return oof


def fold_rmse(y: np.ndarray, oof: np.ndarray, folds: int, seed: int) -> tuple[float, float]:
    scores = [
        float(np.sqrt(np.mean((oof[v] - y[v]) ** 2)))
        for _, v in KFold(folds, shuffle=True, random_state=seed).split(y)
    ]
    return float(np.mean(scores)), float(np.std(scores))


class CVScore(NamedTuple):
    """The CV a registered model reports."""

    mean: float  # of the fold RMSEs
    std: float
    oof: np.ndarray  # out-of-fold predictions, each row's location effect learned without it
    effect: LocationModel | None
    params: dict[str, dict[str, Any]]  # what the final fit uses (a blend's weights as chosen)


def cv_score(
    train: pd.DataFrame,
    name: str,
    all_params: dict[str, dict[str, Any]],
    spec: DataSpec,
    folds: int,
    seed: int,
    n_jobs: int,
    location: Location | None = None,
) -> CVScore:
    """The CV a registered model reports (see ``CVScore``)."""
    y = log_target(train, spec.target.column, spec.target.transform)
    if name == "blend":
        oof, all_params = blend_oof(train, y, all_params, spec, folds, seed, n_jobs)
    else:
        oof = cross_validate(train, name, all_params, spec, folds, seed, n_jobs)
    effect = fit_location(train, y - oof, location) if location is not None else None
    if effect is not None:
        oof = oof + effect.leave_one_out(train, y - oof)
    cv_mean, cv_std = fold_rmse(y, oof, folds, seed)
    return CVScore(cv_mean, cv_std, oof, effect, all_params)


def blend_oof(
    train: pd.DataFrame,
    y: np.ndarray,
    all_params: dict[str, dict[str, Any]],
    spec: DataSpec,
    folds: int,
    seed: int,
    n_jobs: int,
) -> tuple[np.ndarray, dict[str, dict[str, Any]]]:
    """The blend's out-of-fold predictions and its parameters, its weights re-chosen for
    this data when that is clearly better (``choose_weights``, among the default members
    and the ``candidates``; ``y``: the model's target)."""
    weights: dict[str, float] = all_params["blend"]["weights"]
    choose = bool(all_params["blend"].get("choose_weights", False))
    # candidates: members weighted 0 by default, that only a choice of weights can bring in
    extra = [m for m in all_params["blend"].get("candidates", []) if m not in weights]
    names = [*weights, *(extra if choose else [])]
    member_oof = np.column_stack(
        [cross_validate(train, m, all_params, spec, folds, seed, n_jobs) for m in names]
    )
    fixed = np.array([weights.get(m, 0.0) for m in names], dtype=np.float64)
    fixed_oof = member_oof @ (fixed / fixed.sum())  # what the Blend itself predicts
    if not choose:
        return fixed_oof, all_params
    choice = choose_weights(member_oof, y, folds, seed)
    before, after = rmse(y, fixed_oof), rmse(y, choice.oof)
    if after > (1.0 - REWEIGHT_MIN_GAIN) * before:
        return fixed_oof, all_params
    # a member weighted 0 is left out: nothing to fit, serve or explain
    chosen = {m: float(w) for m, w in zip(names, choice.weights, strict=True) if w > 0}
    log.info(
        "blend weights chosen by CV: %s (out-of-fold RMSE %.4f -> %.4f)",
        ", ".join(f"{m} {w:.2f}" for m, w in chosen.items()),
        before,
        after,
    )
    params = {**all_params, "blend": {**all_params["blend"], "weights": chosen}}
    return choice.oof, params


def fit_price_model(
    train: pd.DataFrame,
    name: str,
    all_params: dict[str, dict[str, Any]],
    spec: DataSpec,
    *,
    folds: int = 5,
    seed: int = 42,
    n_jobs: int = 2,
    coverage: float = 0.8,
    location: Location | None = None,
    cv: CVScore | None = None,
) -> FitResult:
    """CV on ``train`` (metrics + conformal residuals), then the final fit on all of it.

    With ``location``, the out-of-fold residuals also teach the location effect (parcel
    blocks or nearest sales); the CV metrics and the range then use each row's effect
    learned without that row. ``cv``: that CV already computed for these arguments (tuning
    judges the parameters it keeps exactly so), not computed again.
    """
    t0 = time.perf_counter()
    y = log_target(train, spec.target.column, spec.target.transform)
    if cv is None:
        cv = cv_score(train, name, all_params, spec, folds, seed, n_jobs, location)
    cv_mean, cv_std, oof, effect, all_params = cv
    encoder = FeatureEncoder(spec).fit(train)
    reg = build_regressor(name, all_params, encoder, seed, n_jobs)
    reg.fit(encoder.transform(train), y)
    model = PriceModel(
        encoder=encoder,
        regressor=reg,
        strategy=name,
        params=params_for(name, all_params),
        interval_halfwidth=conformal_halfwidth(y - oof, coverage),
        interval_coverage=coverage,
        location=effect,
    )
    return FitResult(model, cv_mean, cv_std, oof, time.perf_counter() - t0)


def fit_location(
    train: pd.DataFrame, residuals: np.ndarray, spec: Location
) -> LocationModel | None:
    """The location effect, or None when the data has no usable location column."""
    if isinstance(spec, CoordinateSpec):
        if spec.latitude not in train.columns or spec.longitude not in train.columns:
            return None
        return CoordinateEffect.fit(train, residuals, spec)
    if spec.column not in train.columns:
        return None
    if not (block_ids(train[spec.column], spec.divisor) >= 0).any():
        return None
    return LocationEffect.fit(train[spec.column], residuals, spec)


def location_config(spec: DataSpec, overrides: dict[str, Any] | None = None) -> Location | None:
    """The spec's location as the effect's configuration; ``overrides`` (divisor, prior,
    neighbours) come from settings set explicitly in the environment."""
    loc = spec.location
    if loc is None:
        return None
    o = {k: v for k, v in (overrides or {}).items() if v is not None}
    if loc.kind == "block":
        return LocationSpec(
            loc.column, int(o.get("divisor", loc.divisor)), float(o.get("prior", loc.prior))
        )
    return CoordinateSpec(
        loc.latitude,
        loc.longitude,
        int(o.get("neighbours", loc.neighbours)),
        float(o.get("prior", loc.prior)),
        loc.max_km,
    )
