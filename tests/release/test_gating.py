"""The gating matrix as a pure decision, and where its limits come from."""

from __future__ import annotations

import pytest

from prices_predictor.core.settings import Settings
from prices_predictor.release.gating import DEFAULT_MIN_BASELINE_GAIN, Limits, decide, limits
from prices_predictor.spec.io import from_dict
from tests.conftest import AMES

LIMITS = Limits(min_baseline_gain=0.10, max_rmse=0.14, min_r2=0.88, min_improvement=0.0)
GOOD = {"rmse": 0.11, "r2": 0.93, "baseline_rmse": 0.25}


def test_no_champion_yet_promotes_when_threshold_passes() -> None:
    d = decide("1", GOOD, None, None, LIMITS)
    assert d.verdict == "promoted" and "no champion" in d.reasons[0]


def test_better_than_champion_promotes() -> None:
    d = decide("2", GOOD, "1", {"rmse": 0.12, "r2": 0.92}, LIMITS)
    assert d.verdict == "promoted" and d.reasons[0].startswith("comparison")


def test_worse_than_champion_becomes_challenger() -> None:
    d = decide("2", {**GOOD, "rmse": 0.125}, "1", {"rmse": 0.12, "r2": 0.92}, LIMITS)
    assert d.verdict == "challenger"


def test_equal_to_champion_is_not_promoted() -> None:
    d = decide("2", GOOD, "1", dict(GOOD), LIMITS)
    assert d.verdict == "challenger"


def test_improvement_margin_is_required() -> None:
    lim = Limits(0.10, 0.14, 0.88, min_improvement=0.01)
    d = decide("2", {**GOOD, "rmse": 0.115}, "1", {"rmse": 0.12, "r2": 0.92}, lim)
    assert d.verdict == "challenger"
    d = decide("2", {**GOOD, "rmse": 0.105}, "1", {"rmse": 0.12, "r2": 0.92}, lim)
    assert d.verdict == "promoted"


@pytest.mark.parametrize(
    ("cand", "reason"),
    [
        ({**GOOD, "rmse": 0.2}, "RMSE 0.2000 > max 0.1400"),
        ({**GOOD, "r2": 0.5}, "R2 0.5000 < min 0.8800"),
        ({**GOOD, "baseline_rmse": 0.118}, "is 6.8% below the baseline's 0.1180"),
    ],
)
def test_below_threshold_is_rejected_even_without_champion(
    cand: dict[str, float], reason: str
) -> None:
    d = decide("1", cand, None, None, LIMITS)
    assert d.verdict == "rejected"
    assert len(d.reasons) == 1 and d.reasons[0].startswith("threshold") and reason in d.reasons[0]


def test_a_model_worse_than_the_champion_is_not_promoted_though_it_passes_the_threshold() -> None:
    # the naive tutorial XGBoost (RMSE 0.123, R2 0.91) passes the Ames threshold gate: the
    # comparison gate is what keeps it from replacing a better champion
    naive = {"rmse": 0.123, "r2": 0.91, "baseline_rmse": 0.22}
    alone = decide("2", naive, None, None, LIMITS)
    assert alone.verdict == "promoted"
    d = decide("2", naive, "1", {"rmse": 0.107, "r2": 0.938}, LIMITS)
    assert d.verdict == "challenger" and "does not beat champion v1" in d.reasons[0]


def test_absolute_limits_are_optional_the_baseline_gain_is_not() -> None:
    loose = Limits(0.10, None, None, 0.0)
    weak_city_model = {"rmse": 0.31, "r2": 0.55, "baseline_rmse": 0.40}  # 22% below baseline
    assert decide("1", weak_city_model, None, None, loose).verdict == "promoted"
    no_better = {"rmse": 0.38, "r2": 0.3, "baseline_rmse": 0.40}  # 5% below baseline
    d = decide("1", no_better, None, None, loose)
    assert d.verdict == "rejected" and "baseline" in d.reasons[0]


def test_another_schema_than_the_champions_only_becomes_challenger() -> None:
    d = decide("2", GOOD, "1", None, LIMITS, same_schema=False)  # not scored on other rows
    assert d.verdict == "challenger" and "other input columns" in d.reasons[0]


def test_limits_come_from_the_environment_then_the_spec_then_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for k in ("PP_GATE_MAX_RMSE", "PP_GATE_MIN_R2", "PP_GATE_MIN_BASELINE_GAIN"):
        monkeypatch.delenv(k, raising=False)
    plain = from_dict({"features": [{"name": "sqft", "kind": "numeric"}]})
    assert limits(Settings(), plain) == Limits(DEFAULT_MIN_BASELINE_GAIN, None, None, 0.0)
    assert limits(Settings(), AMES) == Limits(0.10, 0.14, 0.88, 0.0)  # the preset's values
    monkeypatch.setenv("PP_GATE_MAX_RMSE", "0.3")
    monkeypatch.setenv("PP_GATE_MIN_BASELINE_GAIN", "0.2")
    assert limits(Settings(), AMES) == Limits(0.2, 0.3, 0.88, 0.0)
