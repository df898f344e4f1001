"""The pickled PriceModel: scores without the training libraries, opens the regressor on demand."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from prices_predictor.models import price_model
from prices_predictor.models.price_model import PriceModel
from prices_predictor.models.strategies import default_params
from prices_predictor.models.train import fit_price_model
from tests.conftest import AMES, FAST_PARAMS
from tests.tolerances import float32_trees, n_trees


def _blend(small_ames: pd.DataFrame) -> PriceModel:
    params = default_params()
    for k, v in FAST_PARAMS.items():
        params[k].update(v)
    return fit_price_model(small_ames, "blend", params, AMES, folds=2, n_jobs=1).model


def test_a_loaded_model_scores_without_importing_the_training_libraries(
    small_ames: pd.DataFrame, tmp_path: Path
) -> None:
    model = _blend(small_ames)
    path = tmp_path / "m.joblib"
    joblib.dump(model, path)
    want = model.predict_log(small_ames.head(3))
    code = (
        "import sys, joblib, pandas as pd\n"
        f"m = joblib.load({str(path)!r})\n"
        f"rows = pd.read_json({small_ames.head(3).to_json(orient='records')!r}, orient='records')\n"
        "print(list(m.predict_log(rows)))\n"
        "print(sorted(k for k in ('sklearn', 'xgboost', 'lightgbm') if k in sys.modules))\n"
        "m.regressor\n"
        "print(sorted(k for k in ('sklearn', 'xgboost', 'lightgbm') if k in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout.splitlines()
    # same tables, same kernel, same row path: the same bits (repr round-trips a float)
    np.testing.assert_array_equal(eval(out[0]), want)
    assert out[1] == "[]"  # scored from the flattened tables alone
    assert out[2] == "['lightgbm', 'sklearn', 'xgboost']"  # opened on demand


def test_round_trip_keeps_the_regressor_and_predictions(small_ames: pd.DataFrame) -> None:
    model = _blend(small_ames)
    again = pickle.loads(pickle.dumps(pickle.loads(pickle.dumps(model))))
    X = model.encoder.transform(small_ames.head(20))
    np.testing.assert_array_equal(again.regressor.predict(X), model.regressor.predict(X))
    np.testing.assert_array_equal(
        again.predict_log(small_ames.head(20)),
        model.predict_log(small_ames.head(20)),
    )


def test_a_pickle_from_before_the_kernel_still_loads_and_scores(small_ames: pd.DataFrame) -> None:
    model = _blend(small_ames)
    old_state = {k: v for k, v in model.__dict__.items() if not k.startswith("_")}
    assert "regressor" in old_state  # what stop-9 models carried: the regressor itself
    old = PriceModel.__new__(PriceModel)
    old.__setstate__(old_state)
    # the tables flattened again from the same regressor: the same numbers, the same kernel
    np.testing.assert_array_equal(
        old.predict_log(small_ames.head(10)), model.predict_log(small_ames.head(10))
    )
    again = pickle.loads(pickle.dumps(old))
    assert again.__dict__["_packed"] is not None  # saved again, it carries the tables


def test_a_pickle_from_before_the_ridge_clip_scores_as_it_did(small_ames: pd.DataFrame) -> None:
    """Models saved before the Ridge clipped to its training range keep their predictions."""
    import dataclasses

    model = _blend(small_ames)
    rows = small_ames.head(10).assign(**{"Gr Liv Area": 50_000})
    skew = model.regressor.members[0][1].steps[0][1]
    del skew.lo_, skew.hi_  # as unpickled from such a model
    old = pickle.loads(pickle.dumps(model))
    want = old.regressor.predict(old.encoder.transform(rows))
    old._packed = dataclasses.replace(old._packed, lo=None, hi=None)
    old.__dict__.pop("_fast", None)
    tol = float32_trees(n_trees(old.regressor), want)  # kernel vs the libraries' float32 sums
    np.testing.assert_allclose(old.predict_log(rows), want, rtol=0, atol=tol)


def test_a_pickle_from_before_the_interactions_scores_as_it_did(small_ames: pd.DataFrame) -> None:
    """Kernel tables saved before the Ridge had product terms (no pair fields) still score."""
    import dataclasses

    params = default_params()
    for k, v in FAST_PARAMS.items():
        params[k].update(v)
    params["linear"]["interactions"] = []
    model = fit_price_model(small_ames, "blend", params, AMES, folds=2, n_jobs=1).model
    rows = small_ames.head(30)
    want = model.predict_log(rows)
    old = pickle.loads(pickle.dumps(model))
    old._packed = dataclasses.replace(old._packed, pair_i=None, pair_j=None, pair_coef=None)
    old.__dict__.pop("_fast", None)
    # no pairs either way: the kernel adds the same terms in the same order
    np.testing.assert_array_equal(old.predict_log(rows), want)


def test_a_large_batch_is_scored_in_pipelined_slices_with_the_same_numbers(
    small_ames: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _blend(small_ames)
    rows = small_ames.sample(300, replace=True, random_state=0).reset_index(drop=True)
    want = model.predict_log_encoded(model.encoder.transform(rows))
    monkeypatch.setattr(price_model, "PIPELINE_ROWS", 100)
    monkeypatch.setattr(price_model, "SLICE_ROWS", 16)
    monkeypatch.setattr(price_model, "CHUNK_ROWS", 40)  # 8 slices of 38 rows
    seen: list[int] = []
    score = model.predict_log_encoded

    def counting(X: np.ndarray) -> np.ndarray:
        seen.append(len(X))
        return score(X)

    monkeypatch.setattr(model, "predict_log_encoded", counting)
    np.testing.assert_array_equal(model.predict_log(rows), want)
    assert seen == [38] * 7 + [34]
    records = json.loads(rows.to_json(orient="records"))
    # records encode to the same matrix as the frame (tested exactly in test_encoder)
    np.testing.assert_array_equal(model.predict_log(records), want)

    def failing(X: np.ndarray) -> np.ndarray:
        if len(seen) == 3:
            raise RuntimeError("slice 4 failed")
        seen.append(len(X))
        return score(X)

    seen.clear()
    monkeypatch.setattr(model, "predict_log_encoded", failing)
    with pytest.raises(RuntimeError, match="slice 4 failed"):
        model.predict_log(rows)
