"""The gating matrix as a pure decision."""

from __future__ import annotations

import pytest

from prices_predictor.deploy.gating import decide

GATES = {"max_rmse": 0.14, "min_r2": 0.88, "min_improvement": 0.0}
GOOD = {"rmse": 0.11, "r2": 0.93}


def test_no_champion_yet_promotes_when_threshold_passes() -> None:
    d = decide("1", GOOD, None, None, **GATES)
    assert d.verdict == "promoted" and "no champion" in d.reasons[0]


def test_better_than_champion_promotes() -> None:
    d = decide("2", GOOD, "1", {"rmse": 0.12, "r2": 0.92}, **GATES)
    assert d.promoted


def test_worse_than_champion_becomes_challenger() -> None:
    d = decide("2", {"rmse": 0.125, "r2": 0.92}, "1", {"rmse": 0.12, "r2": 0.92}, **GATES)
    assert d.verdict == "challenger"


def test_equal_to_champion_is_not_promoted() -> None:
    d = decide("2", GOOD, "1", dict(GOOD), **GATES)
    assert d.verdict == "challenger"


def test_improvement_margin_is_required() -> None:
    gates = {**GATES, "min_improvement": 0.01}
    d = decide("2", {"rmse": 0.115, "r2": 0.93}, "1", {"rmse": 0.12, "r2": 0.92}, **gates)
    assert d.verdict == "challenger"
    d = decide("2", {"rmse": 0.105, "r2": 0.93}, "1", {"rmse": 0.12, "r2": 0.92}, **gates)
    assert d.promoted


@pytest.mark.parametrize("cand", [{"rmse": 0.2, "r2": 0.93}, {"rmse": 0.11, "r2": 0.5}])
def test_below_threshold_is_rejected_even_without_champion(cand: dict[str, float]) -> None:
    d = decide("1", cand, None, None, **GATES)
    assert d.verdict == "rejected"
    assert d.reasons and d.reasons[0].startswith("threshold")


def test_naive_model_fails_default_threshold() -> None:
    # the naive tutorial XGBoost scores RMSE 0.123 / R2 ~0.91: it must not beat a real champion
    d = decide("2", {"rmse": 0.123, "r2": 0.91}, "1", {"rmse": 0.107, "r2": 0.938}, **GATES)
    assert not d.promoted
