"""Assignment and analysis, checked against hand-computed numbers."""

from __future__ import annotations

import random

import pytest

from prices_predictor.ab.assign import Experiment, assign
from prices_predictor.ab.report import analyse, sample_size, two_proportion_p, wilson


def test_split_ratio_over_10000_clients() -> None:
    exp = Experiment("exp-1", 0.3)
    n = sum(assign(exp, f"client-{i}") == "challenger" for i in range(10_000))
    assert abs(n / 10_000 - 0.3) < 0.02


def test_assignment_is_sticky_and_per_experiment() -> None:
    a, b = Experiment("exp-a", 0.5), Experiment("exp-b", 0.5)
    first = [assign(a, f"c{i}") for i in range(200)]
    assert first == [assign(a, f"c{i}") for i in range(200)]
    assert first != [assign(b, f"c{i}") for i in range(200)]  # a new experiment reshuffles


def test_no_client_id_is_random_and_no_experiment_is_champion() -> None:
    rng = random.Random(0)
    picks = {assign(Experiment("e", 0.5), None, rng) for _ in range(50)}
    assert picks == {"champion", "challenger"}
    assert assign(Experiment("", 0.9), "c") == "champion"
    assert assign(Experiment("e", 0.0), "c") == "champion"


def test_statistics_match_hand_computation() -> None:
    # Wilson 95% for 100/1000: centre (0.1 + 1.96^2/2000) / (1 + 1.96^2/1000) = 0.101531 ...
    lo, hi = wilson(100, 1000)
    assert (round(lo, 4), round(hi, 4)) == (0.0829, 0.1202)
    # pooled p = 0.115, se = sqrt(0.115 * 0.885 * 0.002) = 0.014267, z = 0.03 / se = 2.1027
    assert two_proportion_p(100, 1000, 130, 1000) == pytest.approx(0.03549, abs=1e-4)
    assert sample_size(0.10, 0.13) == pytest.approx(1774, abs=5)


def _rows(variant: str, n: int, conversions: int, price_err: float = 0.0) -> list[dict]:
    return [
        {
            "variant": variant,
            "latency_ms": 1.0,
            "price": 100_000 + price_err,
            "converted": i < conversions,
            "actual_price": 100_000.0 if i < 10 else None,
            "request_id": f"{variant}{i}",
            "model_version": "1",
        }
        for i in range(n)
    ]


def test_verdicts() -> None:
    better = analyse(_rows("champion", 1000, 100) + _rows("challenger", 1000, 130))
    assert better.verdict == "promote challenger"
    assert better.difference == pytest.approx(0.03)
    assert better.variants["challenger"].ci95[0] < 0.13 < better.variants["challenger"].ci95[1]
    worse = analyse(_rows("champion", 1000, 130) + _rows("challenger", 1000, 100))
    assert worse.verdict == "keep champion"
    unsure = analyse(_rows("champion", 200, 20) + _rows("challenger", 200, 23))
    assert unsure.verdict == "keep running" and unsure.needed_per_variant > 200
    costly = analyse(_rows("champion", 1000, 100) + _rows("challenger", 1000, 130, 20_000))
    assert costly.verdict == "keep running"  # converts better, but prices are far worse
    assert costly.variants["challenger"].mae == pytest.approx(20_000)
    assert costly.variants["challenger"].mape == pytest.approx(0.2)
