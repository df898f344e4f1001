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
) -> FitResult:
    """CV on ``train`` (metrics + conformal residuals), then the final fit on all of it."""
    t0 = time.perf_counter()
    y = log_target(train, target)
    oof = cross_validate(train, name, all_params, target, folds, seed, n_jobs)
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
    )
    return FitResult(model, cv_mean, cv_std, oof, time.perf_counter() - t0)
