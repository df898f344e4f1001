"""Budgeted Optuna search with K-fold CV on the training part only."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import optuna
import pandas as pd

from prices_predictor.core.errors import UserError
from prices_predictor.data.split import log_target
from prices_predictor.models.strategies import get_strategy
from prices_predictor.models.train import cross_validate
from prices_predictor.spec.model import DataSpec

log = logging.getLogger(__name__)


def tune(
    train: pd.DataFrame,
    name: str,
    all_params: dict[str, dict[str, Any]],
    *,
    spec: DataSpec,
    folds: int,
    seed: int,
    n_jobs: int,
    trials: int,
    timeout_s: float,
) -> tuple[dict[str, dict[str, Any]], float, int]:
    """Search ``name``'s space (each member's, for a blend); returns params, best CV RMSE, trials.

    The protocol holdout is never passed in: only ``train`` is split into folds.
    """
    members = list(all_params["blend"]["weights"]) if name == "blend" else [name]
    tuned = {k: dict(v) for k, v in all_params.items()}
    y = log_target(train, spec.target.column, spec.target.transform)
    best_total = float("nan")
    n_done = 0
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for member in members:
        strategy = get_strategy(member)

        def objective(trial: optuna.Trial, member: str = member, strategy: Any = strategy) -> float:
            candidate = {**tuned, member: {**tuned.get(member, {}), **strategy.suggest(trial)}}
            oof = cross_validate(train, member, candidate, spec, folds, seed, n_jobs)
            return float(np.sqrt(np.mean((oof - y) ** 2)))

        study = optuna.create_study(
            direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed)
        )
        study.enqueue_trial({})  # the current defaults are trial 0: tuning never makes it worse
        per_member = max(1, trials // len(members))
        study.optimize(objective, n_trials=per_member, timeout=timeout_s / len(members))
        if not study.trials:
            raise UserError(f"tuning {member}: no trial finished within the time budget")
        tuned[member] = {**tuned.get(member, {}), **study.best_params}
        n_done += len(study.trials)
        best_total = study.best_value
        log.info(
            "tuned %s: CV RMSE %.4f over %d trials", member, study.best_value, len(study.trials)
        )
    if name == "blend":
        oof = cross_validate(train, "blend", tuned, spec, folds, seed, n_jobs)
        best_total = float(np.sqrt(np.mean((oof - y) ** 2)))
    return tuned, best_total, n_done
