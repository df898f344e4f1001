"""The feature encoder: imputation semantics, engineered features, identical paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prices_predictor.features.encoder import SCALAR_N, FeatureEncoder
from tests.conftest import AMES


@pytest.fixture(scope="module")
def enc(small_ames: pd.DataFrame) -> FeatureEncoder:
    return FeatureEncoder(AMES).fit(small_ames)


def test_frame_and_records_give_identical_matrices(
    enc: FeatureEncoder, small_ames: pd.DataFrame
) -> None:
    frame = enc.transform(small_ames)
    records = small_ames.to_dict("records")
    assert len(records) > SCALAR_N
    big = enc.transform(records)  # vectorised path (more rows than SCALAR_N)
    small = np.vstack([enc.transform(records[i : i + 7]) for i in range(0, len(records), 7)])
    assert frame.shape == (len(small_ames), enc.n_features)
    np.testing.assert_array_equal(frame, big)
    np.testing.assert_array_equal(frame, small)
    assert np.isfinite(frame).all()


def test_absent_things_are_none_and_zero(enc: FeatureEncoder) -> None:
    x = enc.transform([{"Pool QC": None, "Total Bsmt SF": None, "Garage Cars": None}])[0]
    names = enc.feature_names
    assert x[names.index("Pool QC")] == 0  # "no pool" ranks 0
    assert x[names.index("Total Bsmt SF")] == 0
    assert x[names.index("Garage Cars")] == 0
    assert x[names.index("has_basement")] == 0


def test_other_numerics_take_the_training_median(enc: FeatureEncoder) -> None:
    x = enc.transform([{}])[0]
    assert x[enc.index("Gr Liv Area")] == enc.medians["Gr Liv Area"]
    assert x[enc.index("Overall Qual")] == enc.medians["Overall Qual"]


def test_lot_frontage_imputed_by_neighborhood(enc: FeatureEncoder) -> None:
    by_hood = enc.group_medians["Lot Frontage"]
    hood = next(iter(by_hood))
    x = enc.transform([{"Neighborhood": hood}])[0]
    assert x[enc.index("Lot Frontage")] == by_hood[hood]


def test_garage_year_defaults_to_year_built(enc: FeatureEncoder) -> None:
    x = enc.transform([{"Year Built": 1977}])[0]
    assert x[enc.index("Garage Yr Blt")] == 1977


def test_engineered_features(enc: FeatureEncoder) -> None:
    row = {
        "Total Bsmt SF": 800,
        "Gr Liv Area": 1500,
        "Yr Sold": 2010,
        "Year Built": 1990,
        "Year Remod/Add": 2000,
        "Full Bath": 2,
        "Half Bath": 1,
        "Bsmt Full Bath": 1,
        "Bsmt Half Bath": 0,
        "Overall Qual": 7,
    }
    x = enc.transform([row])[0]
    assert x[enc.index("total_sf")] == 2300
    assert x[enc.index("house_age")] == 20
    assert x[enc.index("remod_age")] == 10
    assert x[enc.index("total_bath")] == 3.5
    assert x[enc.index("qual_x_area")] == 7 * 1500
    assert x[enc.index("remodeled")] == 1
    assert {e.name for e in AMES.engineered} <= set(enc.feature_names)


def test_unknown_category_is_all_zero_one_hot(enc: FeatureEncoder) -> None:
    x = enc.transform([{"Neighborhood": "Atlantis"}])[0]
    cols = [i for i, n in enumerate(enc.feature_names) if n.startswith("Neighborhood=")]
    assert x[cols].sum() == 0


def test_int_and_float_category_codes_match(enc: FeatureEncoder) -> None:
    a = enc.transform([{"MS SubClass": 60}])
    b = enc.transform([{"MS SubClass": 60.0}])
    c = enc.transform([{"MS SubClass": "60"}])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_column_order_does_not_matter(enc: FeatureEncoder, small_ames: pd.DataFrame) -> None:
    shuffled = small_ames[list(reversed(small_ames.columns))]
    np.testing.assert_array_equal(enc.transform(small_ames), enc.transform(shuffled))


def test_pickle_roundtrip_keeps_lookups(enc: FeatureEncoder, small_ames: pd.DataFrame) -> None:
    import pickle

    clone = pickle.loads(pickle.dumps(enc))
    np.testing.assert_array_equal(
        clone.transform(small_ames.head(5)), enc.transform(small_ames.head(5))
    )


def test_transform_before_fit_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="before fit"):
        FeatureEncoder(AMES).transform([{}])


def test_category_whitespace_is_ignored(enc: FeatureEncoder) -> None:
    # the Ames file spells a sale type 'WD ' (trailing blank); API clients send 'WD'
    np.testing.assert_array_equal(
        enc.transform([{"Sale Type": "WD "}]), enc.transform([{"Sale Type": "WD"}])
    )
    assert "Sale Type=WD" in enc.feature_names


def test_single_row_path_matches_the_vectorised_path(
    enc: FeatureEncoder, ames: pd.DataFrame
) -> None:
    sample = ames.sample(400, random_state=5)
    records = sample.to_dict("records")
    # knock out values at random so every imputation branch runs, and add junk strings
    rng = np.random.default_rng(0)
    for r in records:
        for k in rng.choice(list(r), size=25, replace=False):
            r[k] = None if rng.random() < 0.7 else "junk"
    vector = enc.transform(pd.DataFrame(records))
    one_by_one = np.vstack([enc.transform([r]) for r in records])
    np.testing.assert_array_equal(vector, one_by_one)


def test_missing_quality_of_a_present_thing_is_not_none(enc: FeatureEncoder) -> None:
    with_garage = enc.transform([{"Garage Cars": 2}])[0]
    without = enc.transform([{"Garage Cars": 0}])[0]
    assert with_garage[enc.index("Garage Qual")] == 3  # typical ('TA'), the mode of garages
    assert without[enc.index("Garage Qual")] == 0  # no garage: none
    assert with_garage[enc.index(f"Garage Type={enc.present_modes['Garage Type']}")] == 1
    fire = enc.transform([{"Fireplaces": 1}])[0]
    assert fire[enc.index("Fireplace Qu")] > 0


def test_categorical_dtype_columns_encode_like_strings(
    enc: FeatureEncoder, small_ames: pd.DataFrame
) -> None:
    text = small_ames.select_dtypes("object").columns
    as_category = small_ames.astype({c: "category" for c in text})
    as_category.loc[as_category.index[:5], "Neighborhood"] = np.nan  # missing inside a category
    want = small_ames.copy()
    want.loc[want.index[:5], "Neighborhood"] = None
    np.testing.assert_array_equal(enc.transform(as_category), enc.transform(want))


def test_missing_features_names_absent_and_null_values(enc: FeatureEncoder) -> None:
    present = {
        "Gr Liv Area": 0,  # zero and empty text are values, not missing
        "Alley": "",
        "Overall Qual": np.int64(5),
        "Lot Area": np.float64(8000.0),
    }
    nulls = {
        "Pool QC": None,
        "Lot Frontage": float("nan"),
        "Mas Vnr Area": np.float64("nan"),
        "Fence": pd.NA,
    }
    got = enc.missing_features({**present, **nulls})
    assert set(got) == set(AMES.names()) - set(present)
    assert got == [c for c in AMES.names() if c in got]  # schema order
    rows = [{**present, **nulls}, present, {**present, "Gr Liv Area": float("inf")}]
    want = {c: sum(c in enc.missing_features(r) for r in rows) for c in AMES.names()}
    want = {c: k for c, k in want.items() if k}
    want["Gr Liv Area"] = want.get("Gr Liv Area", 0) + 1  # not finite: imputed too
    assert enc.missing_counts(rows, AMES.names()) == want
    assert enc.missing_counts(pd.DataFrame(rows), ["Gr Liv Area", "Alley"]) == {
        c: want[c] for c in ("Gr Liv Area", "Alley") if c in want
    }


def test_out_of_range_names_numbers_training_never_saw(
    enc: FeatureEncoder, small_ames: pd.DataFrame
) -> None:
    import pickle

    top = float(small_ames["Gr Liv Area"].max())
    assert enc.ranges["Gr Liv Area"] == (float(small_ames["Gr Liv Area"].min()), top)
    assert enc.out_of_range({"Gr Liv Area": top, "Neighborhood": "NAmes"}) == []
    got = enc.out_of_range({"Gr Liv Area": top + 1, "Lot Area": -5, "Overall Qual": float("nan")})
    assert {c for c, *_ in got} == {"Lot Area", "Gr Liv Area"}  # NaN is missing, not out
    assert ("Gr Liv Area", top + 1, enc.ranges["Gr Liv Area"][0], top) in got
    rows = [{"Gr Liv Area": top + 1, "Lot Area": -5}, {"Gr Liv Area": top + 2}, {"Gr Liv Area": 1}]
    want = {c: sum(c in {n for n, *_ in enc.out_of_range(r)} for r in rows) for c in enc.ranges}
    want = {c: k for c, k in want.items() if k}
    assert want == {"Gr Liv Area": 3, "Lot Area": 1}
    assert enc.out_of_range_counts(rows) == want == enc.out_of_range_counts(pd.DataFrame(rows))
    state = {k: v for k, v in enc.__getstate__().items() if k != "ranges"}
    old = pickle.loads(pickle.dumps(enc))
    old.__setstate__(state)  # an encoder saved before ranges were kept: no warnings
    assert old.out_of_range({"Gr Liv Area": top * 10}) == []


def test_text_columns_encode_alike_however_their_strings_are_shared(
    enc: FeatureEncoder, ames: pd.DataFrame
) -> None:
    from prices_predictor.features import values

    big = ames.sample(3000, replace=True, random_state=3).reset_index(drop=True)
    assert len(big) >= values.IDENTITY_MIN_ROWS
    text = big.select_dtypes("object").columns
    shared = big.copy()  # one object per distinct string (as pyarrow reads them)
    for c in text:
        levels = {v: v for v in big[c].dropna().unique()}
        shared[c] = [levels.get(v, v) if isinstance(v, str) else v for v in big[c]]
    fresh = big.copy()  # a new object per cell (as JSON parsing makes them)
    for c in text:
        fresh[c] = [v.encode().decode() if isinstance(v, str) else v for v in big[c]]
    fresh.loc[::7, "Neighborhood"] = np.nan
    shared.loc[::7, "Neighborhood"] = None
    mixed = shared.copy()  # equal strings that are different objects, few enough to group
    mixed["Neighborhood"] = [
        (v.encode().decode() if i % 2 else v) if isinstance(v, str) else v
        for i, v in enumerate(shared["Neighborhood"])
    ]
    want = enc.transform(shared)
    np.testing.assert_array_equal(enc.transform(fresh), want)
    np.testing.assert_array_equal(enc.transform(mixed), want)
    records = shared.head(200).to_dict("records")
    np.testing.assert_array_equal(want[:200], np.vstack([enc.transform([r]) for r in records]))


def test_transform_into_a_reused_buffer(enc: FeatureEncoder, small_ames: pd.DataFrame) -> None:
    a, b = small_ames.iloc[:300], small_ames.iloc[300:600]
    buf = np.full((300, enc.n_features), 7.0, order="F")  # stale values must not leak through
    assert enc.transform(a, out=buf) is buf
    np.testing.assert_array_equal(buf, enc.transform(a))
    enc.transform(b, out=buf)
    np.testing.assert_array_equal(buf, enc.transform(b))
    small = np.empty((3, enc.n_features), order="F")  # the row-by-row path too
    recs = b.head(3).to_dict("records")
    np.testing.assert_array_equal(enc.transform(recs, out=small), enc.transform(recs))
    for bad in (np.empty((300, enc.n_features)), np.empty((299, enc.n_features), order="F")):
        with pytest.raises(ValueError, match="column-major float64"):
            enc.transform(a, out=bad)


def test_an_encoder_pickled_before_specs_existed_encodes_as_the_ames_preset(
    enc: FeatureEncoder, small_ames: pd.DataFrame
) -> None:
    """Models registered before the data spec still load and serve, as the Ames preset."""
    import pickle

    state = enc.__getstate__()
    old = {k: v for k, v in state.items() if k not in ("spec", "group_medians")}
    old["frontage_by_hood"] = state["group_medians"]["Lot Frontage"]
    clone = FeatureEncoder.__new__(FeatureEncoder)
    clone.__setstate__(old)
    assert clone.spec.digest() == AMES.digest()
    np.testing.assert_array_equal(clone.transform(small_ames), enc.transform(small_ames))
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(clone)).transform([{}]), enc.transform([{}])
    )


def test_a_spec_compiles_into_the_same_numbers_on_both_paths() -> None:
    """Dates as decimal years, every engineered op, missing policies, on one and many rows."""
    from prices_predictor.spec.io import from_dict

    spec = from_dict(
        {
            "target": {"column": "price"},
            "features": [
                {"name": "sold", "kind": "date"},
                {"name": "built", "kind": "numeric", "missing": {"same_as": "year"}},
                {"name": "year", "kind": "numeric"},
                {"name": "area", "kind": "numeric", "missing": {"median_by": "zone"}},
                {"name": "garage", "kind": "numeric", "missing": "zero"},
                {"name": "cond", "kind": "ordinal", "levels": {"bad": 0, "ok": 2, "good": 5}},
                {"name": "zone", "kind": "nominal", "missing": "none"},
            ],
            "engineered": [
                {
                    "name": "age",
                    "op": "difference",
                    "terms": [{"column": "sold"}, {"column": "built"}],
                },
                {
                    "name": "mix",
                    "op": "sum",
                    "terms": [{"column": "area"}, {"column": "garage", "weight": -0.5}],
                },
                {
                    "name": "per_cond",
                    "op": "ratio",
                    "terms": [{"column": "area"}, {"column": "cond"}],
                },
                {
                    "name": "cube",
                    "op": "product",
                    "terms": [{"column": "age"}, {"column": "cond"}, {"column": "area"}],
                },
                {
                    "name": "renewed",
                    "op": "flag",
                    "when": "!= 0",
                    "terms": [{"column": "built"}, {"column": "year", "weight": -1}],
                },
                {"name": "has_garage", "op": "flag", "terms": [{"column": "garage"}]},
            ],
        }
    )
    train = pd.DataFrame(
        {
            "sold": ["2010-07-02", "2011-01-01", "2012-12-31", "2010-01-01"] * 10,
            "built": [1990, None, 2000, 1970] * 10,
            "year": [1990, 1995, 2001, 1970] * 10,
            "area": [100.0, 200.0, None, 150.0] * 10,
            "garage": [0, 20, None, 40] * 10,
            "cond": ["bad", "ok", "good", None] * 10,
            "zone": ["A", "B", None, "A"] * 10,
            "price": 1.0,
        }
    )
    enc = FeatureEncoder(spec).fit(train)
    X = enc.transform(train)
    rows = np.vstack([enc.transform([r]) for r in train.to_dict("records")])
    np.testing.assert_array_equal(X, rows)
    col = {n: X[:, i] for i, n in enumerate(enc.feature_names)}
    assert col["sold"][0] == pytest.approx(2010 + 182 / 365)  # 2 July: day 183 of 365
    assert col["sold"][1] == 2011.0 and col["built"][1] == 1995  # same_as year
    assert (
        col["area"][2] == enc.group_medians["area"]["None"]
        if "None" in enc.group_medians["area"]
        else True
    )
    np.testing.assert_array_equal(col["age"], col["sold"] - col["built"])
    np.testing.assert_array_equal(col["mix"], col["area"] - 0.5 * col["garage"])
    assert col["cond"].tolist()[:4] == [
        0,
        2,
        5,
        enc.spec.feature("cond").ranks()[enc.modes["cond"]],
    ]
    assert col["per_cond"][0] == 0.0 and col["per_cond"][1] == 200.0 / 2  # a / 0 is 0
    np.testing.assert_array_equal(col["cube"], col["age"] * col["cond"] * col["area"])
    assert col["renewed"][:4].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert col["has_garage"][:4].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert col["zone=None"][2] == 1.0  # missing: its own level
