"""Budgeted Optuna search with K-fold CV on the training part only.

Every search starts from the current defaults: they are trial 0 of each member's study, on
the same folds as every other trial. The result is then judged as the registered model's CV
is computed (same folds, location effect included, mean of the fold RMSEs), against the
defaults judged the same way; tuning that does not beat them keeps them. So ``--tune`` can
only match or improve the CV of the model it registers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd

from prices_predictor.core import progress
from prices_predictor.data.split import log_target
from prices_predictor.models.strategies import get_strategy
from prices_predictor.models.train import CVScore, Location, cross_validate, cv_score
from prices_predictor.spec.model import DataSpec

log = logging.getLogger(__name__)
JUDGING_RESERVE = 1.5  # x the defaults' CV time, kept for judging the tuned parameters


@dataclass
class TuneResult:
    params: dict[str, dict[str, Any]]  # what to fit: tuned, or the defaults when no gain
    default_cv: float
    tuned_cv: float
    trials: int
    kept_defaults: bool
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)  # member -> new values
    score: CVScore | None = None  # the CV of ``params``, as the fit would compute it

    @property
    def gain(self) -> float:
        """Relative CV RMSE reduction of what is kept over the defaults (0 when kept)."""
        return 0.0 if self.kept_defaults else 1.0 - self.tuned_cv / self.default_cv

    def summary(self) -> str:
        if self.kept_defaults:
            return (
                f"no CV gain over the defaults after {self.trials} trials (best "
                f"{self.tuned_cv:.4f} vs defaults {self.default_cv:.4f}): defaults kept"
            )
        return (
            f"CV RMSE {self.tuned_cv:.4f} vs defaults {self.default_cv:.4f} "
            f"({self.gain:.1%} better) after {self.trials} trials"
        )


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
    location: Location | None = None,
) -> TuneResult:
    """Search ``name``'s space (each member's, for a blend) within ``timeout_s`` overall.

    The protocol holdout is never passed in: only ``train`` is split into folds.
    """
    t0 = time.monotonic()
    cv_args: dict[str, Any] = {"spec": spec, "folds": folds, "seed": seed, "n_jobs": n_jobs}
    with progress.stage("tune: CV of the defaults"):
        default_score = cv_score(train, name, all_params, location=location, **cv_args)
    default_cv = default_score.mean
    # the tuned result is judged the same way at the end; its trees may be more and slower
    judging_s = time.monotonic() - t0
    deadline = t0 + timeout_s - JUDGING_RESERVE * judging_s
    members = list(all_params["blend"]["weights"]) if name == "blend" else [name]
    tuned = {k: dict(v) for k, v in all_params.items()}
    n_done = 0
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for i, member in enumerate(members):
        budget = max(1, trials // len(members))
        left = (deadline - time.monotonic()) / (len(members) - i)
        if left <= 0:  # the budget went on the defaults' CV: this member keeps its values
            progress.current().finished(f"tune: {member}", 0.0, "skipped: no time left")
            continue
        study = _search(train, member, tuned, cv_args, budget, left, seed)
        tuned[member] = {**tuned.get(member, {}), **study.best_params}
        n_done += len(study.trials)
    changed = {
        m: {k: v for k, v in tuned[m].items() if all_params.get(m, {}).get(k) != v} for m in members
    }
    changed = {m: c for m, c in changed.items() if c}
    tuned_score = default_score
    if changed:
        with progress.stage("tune: CV of the tuned parameters"):
            tuned_score = cv_score(train, name, tuned, location=location, **cv_args)
    tuned_cv = tuned_score.mean
    kept = not changed or tuned_cv >= default_cv
    result = TuneResult(
        all_params if kept else tuned,
        default_cv,
        tuned_cv,
        n_done,
        kept,
        {} if kept else changed,
        default_score if kept else tuned_score,
    )
    log.info("tuning: %s", result.summary())
    return result


def _search(
    train: pd.DataFrame,
    member: str,
    params: dict[str, dict[str, Any]],
    cv_args: dict[str, Any],
    budget: int,
    timeout_s: float,
    seed: int,
) -> optuna.Study:
    strategy = get_strategy(member)
    spec: DataSpec = cv_args["spec"]
    y = log_target(train, spec.target.column, spec.target.transform)
    stage = f"tune: {member}"
    started = time.monotonic()

    def objective(trial: optuna.Trial) -> float:
        candidate = {**params, member: {**params.get(member, {}), **strategy.suggest(trial)}}
        oof = cross_validate(train, member, candidate, **cv_args)
        return float(np.sqrt(np.mean((oof - y) ** 2)))

    def report(study: optuna.Study, trial: Any) -> None:
        left = max(0.0, timeout_s - (time.monotonic() - started))
        note = f"best CV {study.best_value:.4f}; {left:.0f} s left"
        progress.current().advanced(stage, len(study.trials), budget, note)
        spent = [t.duration.total_seconds() for t in study.trials if t.duration is not None]
        if spent and left < sum(spent) / len(spent):  # the next trial would not fit
            study.stop()

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    # trial 0: the current values themselves (Optuna takes them even outside the ranges)
    study.enqueue_trial(dict(params.get(member, {})))
    with progress.stage(stage):  # with a timeout > 0, trial 0 (the current values) always runs
        study.optimize(objective, n_trials=budget, timeout=timeout_s, callbacks=[report])
    return study
