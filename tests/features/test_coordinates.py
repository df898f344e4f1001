"""The location effect from coordinates: shrunk sums of the nearest sales' residuals."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from prices_predictor.features.coordinates import CoordinateEffect, CoordinateSpec, project
from prices_predictor.models.explain import explain
from prices_predictor.models.strategies import default_params
from prices_predictor.models.train import fit_price_model, location_config
from prices_predictor.spec.infer import infer
from prices_predictor.spec.io import from_dict
from tests import datasets

SPEC = CoordinateSpec("lat", "lon", neighbours=5, prior=5.0)


@pytest.fixture(scope="module")
def sales() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"lat": 42 + rng.normal(0, 0.02, 400), "lon": -93.6 + rng.normal(0, 0.02, 400)}
    )
    return frame, rng.normal(0, 0.1, 400)


def _brute(points: np.ndarray, res: np.ndarray, at: np.ndarray, k: int, skip: int = -1) -> float:
    d = np.hypot(*(points - at).T)
    if skip >= 0:
        d[skip] = np.inf
    return float(res[np.argsort(d, kind="stable")[:k]].sum() / (k + SPEC.prior))


def test_a_house_gets_the_shrunk_sum_of_its_nearest_sales(sales: tuple) -> None:
    frame, res = sales
    effect = CoordinateEffect.fit(frame, res, SPEC)
    assert effect is not None
    points = project(frame["lat"].to_numpy(), frame["lon"].to_numpy(), effect.lat0)
    houses = pd.DataFrame({"lat": [42.0, 42.01, np.nan, 95.0], "lon": [-93.6, -93.61, -93.6, 0.0]})
    got = effect.effect(houses)
    for i in range(2):
        at = project(
            houses["lat"].to_numpy()[i : i + 1], houses["lon"].to_numpy()[i : i + 1], effect.lat0
        )[0]
        assert got[i] == pytest.approx(_brute(points, res, at, 5), rel=1e-12)
    assert got[2] == 0.0 and got[3] == 0.0  # no coordinates, or impossible ones: no effect
    one = effect.effect([{"lat": 42.0, "lon": -93.6}])
    assert one[0] == pytest.approx(got[0], rel=1e-12)  # the one-house path agrees
    again = pickle.loads(pickle.dumps(effect))
    np.testing.assert_array_equal(again.effect(houses), got)


def test_each_training_sale_is_priced_without_its_own_residual(sales: tuple) -> None:
    frame, res = sales
    effect = CoordinateEffect.fit(frame, res, SPEC)
    assert effect is not None
    loo = effect.leave_one_out(frame, res)
    points = project(frame["lat"].to_numpy(), frame["lon"].to_numpy(), effect.lat0)
    want = [_brute(points, res, points[i], 5, skip=i) for i in range(len(frame))]
    np.testing.assert_allclose(loo, want, rtol=1e-12, atol=1e-15)


def test_sales_farther_than_the_limit_do_not_count(sales: tuple) -> None:
    frame, res = sales
    near = CoordinateEffect.fit(frame, res, CoordinateSpec("lat", "lon", 5, 5.0, max_km=0.001))
    assert near is not None
    assert near.effect(pd.DataFrame({"lat": [50.0], "lon": [-93.6]}))[0] == 0.0


def test_a_model_from_coordinates_adds_the_effect_and_explains_it_as_location() -> None:
    df = datasets.load("sacramento")
    spec = from_dict(infer(df, "price").spec)
    params = default_params()
    for k in ("xgboost", "lightgbm"):
        params[k].update(n_estimators=60)
    loc = location_config(spec)
    with_loc = fit_price_model(df, "blend", params, spec, folds=3, n_jobs=1, location=loc)
    without = fit_price_model(df, "blend", params, spec, folds=3, n_jobs=1)
    model = with_loc.model
    assert isinstance(model.location, CoordinateEffect)
    rows = df.head(30)
    np.testing.assert_allclose(
        model.predict_log(rows),
        without.model.predict_log(rows) + model.location.effect(rows),
        rtol=1e-15,  # the same regressor (same data, seed, one thread) plus the same effect:
        # one float64 addition apart, i.e. within an ulp of the log price
    )
    exp = explain(model, rows)
    assert exp.sources[-1] == "location"
    np.testing.assert_array_equal(exp.values[:, -1], model.location.effect(rows))
