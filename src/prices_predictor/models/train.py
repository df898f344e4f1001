"""Fitting a strategy on the training part: CV metrics, conformal range, final fit."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from prices_predictor.data import schema
from prices_predictor.data.split import log_target
from prices_predictor.evaluation.metrics import conformal_halfwidth
from prices_predictor.features.encoder import FeatureEncoder
from prices_predictor.features.location import LocationEffect, LocationSpec, block_ids
from prices_predictor.models.base import FeatureContext
from prices_predictor.models.price_model import PriceModel
from prices_predictor.models.registry import get_strategy, params_for


@dataclass
class FitResult:
    model: PriceModel
    cv_rmse_mean: float
    cv_rmse_std: float
    oof_pred: np.ndarray
    fit_seconds: float


def context_for(encoder: FeatureEncoder, seed: int, n_jobs: int) -> FeatureContext:
    """Monotone constraints: every encoded column that only grows with area or quality."""
    names = encoder.feature_names
    mono = [names.index(c) for c in schema.MONOTONE_INCREASING]
    mono += [names.index(c) for c in ("total_sf", "qual_x_area")]
    return FeatureContext(names, sorted(mono), seed=seed, n_jobs=n_jobs)


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
    target: str,
    folds: int,
    seed: int,
    n_jobs: int,
) -> np.ndarray:
    """Out-of-fold log predictions; the encoder is refitted inside every fold."""
    y = log_target(train, target)
    oof = np.empty(len(train))
    for fit_idx, val_idx in KFold(folds, shuffle=True, random_state=seed).split(train):
        part = train.iloc[fit_idx]
        enc = FeatureEncoder().fit(part)
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


def fit_price_model(
    train: pd.DataFrame,
    name: str,
    all_params: dict[str, dict[str, Any]],
    *,
    target: str = "SalePrice",
    folds: int = 5,
    seed: int = 42,
    n_jobs: int = 2,
    coverage: float = 0.8,
    location: LocationSpec | None = None,
) -> FitResult:
    """CV on ``train`` (metrics + conformal residuals), then the final fit on all of it.

    With ``location``, the out-of-fold residuals also teach the per-block location effect;
    the CV metrics and the range then use each row's effect learned without that row.
    """
    t0 = time.perf_counter()
    y = log_target(train, target)
    oof = cross_validate(train, name, all_params, target, folds, seed, n_jobs)
    effect = fit_location(train, y - oof, location) if location is not None else None
    if effect is not None:
        oof = oof + effect.leave_one_out(train[effect.spec.column], y - oof)
    cv_mean, cv_std = fold_rmse(y, oof, folds, seed)
    encoder = FeatureEncoder().fit(train)
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
    train: pd.DataFrame, residuals: np.ndarray, spec: LocationSpec
) -> LocationEffect | None:
    """The location effect, or None when the data has no usable parcel id."""
    if spec.column not in train.columns:
        return None
    if not (block_ids(train[spec.column], spec.divisor) >= 0).any():
        return None
    return LocationEffect.fit(train[spec.column], residuals, spec)
