"""The per-block location effect: shrunk block means of residuals, looked up by parcel id."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from prices_predictor.features.location import LocationEffect, LocationSpec, _Lookup, block_ids
from prices_predictor.models.strategies import default_params
from prices_predictor.models.train import fit_location, fit_price_model
from tests.conftest import AMES, FAST_PARAMS

SPEC = LocationSpec(divisor=1000, prior=2.0)
PIDS = [526301100, 526301999, 526302000, 527105010, None, -5, "abc"]
RES = np.array([0.3, 0.1, -0.2, 0.05, 9.0, 9.0, 9.0])


@pytest.fixture()
def effect() -> LocationEffect:
    return LocationEffect.fit(PIDS, RES, SPEC)


def test_block_ids_divide_and_reject_what_is_not_a_parcel_id() -> None:
    got = block_ids([526301100, 526301999.0, "526302000", None, np.nan, -1, "x", 1.5], 1000)
    assert got.tolist() == [526301, 526301, 526302, -1, -1, -1, -1, -1]


def test_block_effect_is_the_shrunk_mean_of_its_residuals(effect: LocationEffect) -> None:
    # rows without a usable parcel id (None, -5, "abc") teach nothing
    assert effect.keys.tolist() == [526301, 526302, 527105]
    assert effect.counts.tolist() == [2, 1, 1]
    np.testing.assert_allclose(effect.effects, [0.4 / 4, -0.2 / 3, 0.05 / 3])


@pytest.mark.parametrize("dense_max", [1 << 21, 0], ids=["dense", "hashed"])
def test_lookup_agrees_for_frames_dict_lists_and_single_rows(
    dense_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_Lookup, "DENSE_MAX", dense_max)
    effect = LocationEffect.fit(PIDS, RES, SPEC)
    assert (effect._lookup.index is None) == (dense_max > 0)
    pids = [526301500, 526302001, 999999999, None, 527105999, 1, "526301000", 526301000.0]
    want = [0.1, -0.2 / 3, 0.0, 0.0, 0.05 / 3, 0.0, 0.1, 0.1]
    frame = pd.DataFrame({"PID": pids, "Gr Liv Area": 1500})
    np.testing.assert_allclose(effect.effect(frame), want)
    ints = pd.DataFrame({"PID": [526301500, 527105999, 5, 0]})  # an int64 column
    np.testing.assert_allclose(effect.effect(ints), [0.1, 0.05 / 3, 0.0, 0.0])
    np.testing.assert_allclose(effect.effect([{"PID": p} for p in pids]), want)
    for p, w in zip(pids, want, strict=True):
        np.testing.assert_allclose(effect.effect([{"PID": p}]), [w])
    assert effect.effect([{"Gr Liv Area": 1500}]).tolist() == [0.0]  # no parcel id at all
    assert effect.effect(frame.drop(columns="PID")).tolist() == [0.0] * len(pids)


def test_leave_one_out_equals_refitting_without_the_row(effect: LocationEffect) -> None:
    loo = effect.leave_one_out(pd.DataFrame({"PID": PIDS}), RES)
    for i in range(len(PIDS)):
        keep = np.arange(len(PIDS)) != i
        rest = [p for j, p in enumerate(PIDS) if keep[j]]
        others = LocationEffect.fit(rest, RES[keep], SPEC) if i < 4 else effect
        # the same mean computed two ways (sum minus the row vs a sum without it): residuals
        # here are < 1, so rounding stays ~1e-16; 1e-12 is the bound with room
        np.testing.assert_allclose(loo[i], others.effect([{"PID": PIDS[i]}])[0], atol=1e-12)


def test_pickles_with_its_lookup(effect: LocationEffect) -> None:
    back = pickle.loads(pickle.dumps(effect))
    rows = [{"PID": 526301000}, {"PID": 527105000}]
    assert back.effect(rows).tolist() == effect.effect(rows).tolist() != [0.0, 0.0]


def test_no_usable_parcel_id_means_no_effect() -> None:
    res = np.zeros(3)
    assert fit_location(pd.DataFrame({"x": [1, 2, 3]}), res, SPEC) is None
    assert fit_location(pd.DataFrame({"PID": [None, "x", -1]}), res, SPEC) is None
    with pytest.raises(ValueError, match="at least one block"):
        LocationEffect.fit([None], np.zeros(1), SPEC)


def test_fitted_model_adds_the_effect_learned_from_out_of_fold_residuals(
    small_ames: pd.DataFrame,
) -> None:
    params = default_params()
    params["xgboost"].update(FAST_PARAMS["xgboost"])
    spec = LocationSpec(prior=10.0)
    with_loc = fit_price_model(
        small_ames, "xgboost", params, AMES, folds=2, n_jobs=1, location=spec
    )
    without = fit_price_model(small_ames, "xgboost", params, AMES, folds=2, n_jobs=1)
    model = with_loc.model
    assert without.model.location is None and model.location is not None
    # same regressor, same folds: the location effect is the only difference
    y = np.log1p(small_ames["SalePrice"].to_numpy())
    residuals = y - without.oof_pred
    want = LocationEffect.fit(small_ames["PID"], residuals, spec)
    # the same fit on the same residuals, the same operations in the same order
    np.testing.assert_allclose(model.location.effects, want.effects)
    rows = small_ames.head(20)
    np.testing.assert_allclose(
        model.predict_log(rows),
        without.model.predict_log(rows) + want.effect(rows),
        rtol=1e-15,  # the same regressor (same data, seed, one thread) plus the same effect
    )
    # CV metrics use each row's effect learned without it
    np.testing.assert_allclose(
        with_loc.oof_pred, without.oof_pred + want.leave_one_out(small_ames, residuals)
    )
