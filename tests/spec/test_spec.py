"""The data spec: the Ames preset, bad specs named by entry, the published schema, precedence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prices_predictor.core.errors import UserError
from prices_predictor.core.settings import Settings
from prices_predictor.data.split import drop_outliers, protocol_split
from prices_predictor.spec.choose import apply_settings, choose
from prices_predictor.spec.io import SpecFileError, dump_yaml, from_dict, json_schema, parse_spec
from prices_predictor.spec.names import api_name
from tests.conftest import AMES, ROOT, base_env, run_cli

GOOD = """
target: {column: price}
features:
  - {name: sqft, kind: numeric, monotone: 1, key: true, range: {min: 0}}
  - {name: cond, kind: ordinal, levels: [poor, fair, good]}
  - {name: zone, kind: nominal, missing: none}
engineered:
  - {name: sqft_per_cond, op: ratio, terms: [{column: sqft}, {column: cond}]}
"""


def test_the_ames_preset_reproduces_the_engine_as_it_was() -> None:
    assert AMES.target.column == "SalePrice" and AMES.target.transform == "log1p"
    assert len(AMES.numeric) == 35 and len(AMES.ordinal) == 19 and len(AMES.nominal) == 25
    assert [e.name for e in AMES.engineered][:3] == ["total_sf", "house_age", "remod_age"]
    assert AMES.monotone() == {"Overall Qual": 1, "Gr Liv Area": 1, "total_sf": 1, "qual_x_area": 1}
    assert AMES.location is not None and AMES.location.kind == "block"
    assert (AMES.location.column, AMES.location.divisor, AMES.location.prior) == ("PID", 1000, 10)
    assert AMES.outliers[0].column == "Gr Liv Area" and AMES.outliers[0].max == 4000
    assert AMES.gates.max_rmse == 0.14 and AMES.gates.min_r2 == 0.88
    # written out and read back: the same spec
    assert parse_spec(dump_yaml(AMES), "x").digest() == AMES.digest()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD.replace("kind: nominal", "kind: nominl"),
            "features[2] 'zone': kind: Input should be 'numeric', 'date', 'ordinal' or "
            "'nominal', got 'nominl'",
        ),
        (
            GOOD.replace(", levels: [poor, fair, good]", ""),
            "features[1] 'cond': an ordinal feature needs 'levels'",
        ),
        (
            GOOD.replace("{column: sqft}, {column: cond}", "{column: sqftt}, {column: cond}"),
            "engineered[0] 'sqft_per_cond': term 'sqftt' is not a numeric, date or ordinal",
        ),
        (GOOD.replace("op: ratio", "op: divide"), "engineered[0] 'sqft_per_cond': op: Input"),
        (
            GOOD.replace("{column: sqft}, {column: cond}]", "{column: sqft}]"),
            "engineered[0] 'sqft_per_cond': op ratio takes exactly 2 terms, got 1",
        ),
        (GOOD.replace("key: true", "kee: true"), "features[0] 'sqft': unknown key 'kee'"),
        (GOOD + "interactions: [[sqft, cond]]\n", "'cond' is not a nominal feature"),
        (GOOD.replace("column: price", "column: sqft"), "target: 'sqft' is also a feature"),
        (
            GOOD + "outliers: [{column: zone, min: 1}]\n",
            "outliers[0]: 'zone' is not a numeric feature or the target",
        ),
        ("target: [oops\n", "line 2: not valid YAML"),
    ],
)
def test_a_bad_spec_is_one_line_naming_the_file_the_entry_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    f = tmp_path / "spec.yaml"
    f.write_text(text)
    with pytest.raises(SpecFileError) as err:
        parse_spec(text, str(f))
    assert str(err.value).startswith(f"{f}: ") and message in str(err.value)
    assert "\n" not in str(err.value)
    proc = run_cli(["spec", "check", str(f)], base_env(tmp_path / "pp"), timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert message.split(": ")[0] in proc.stderr


def test_a_good_spec_checks_against_its_data(tmp_path: Path) -> None:
    f = tmp_path / "spec.yaml"
    f.write_text(GOOD)
    data = tmp_path / "sales.csv"
    data.write_text("price,sqft,cond,zone\n100,50,good,A\n")
    env = base_env(tmp_path / "pp")
    ok = run_cli(["spec", "check", str(f), "--data", str(data)], env, timeout=60)
    assert ok.returncode == 0 and "ok (3 features, 1 engineered" in ok.stdout
    data.write_text("price,sqft,zone\n100,50,A\n")
    bad = run_cli(["spec", "check", str(f), "--data", str(data)], env, timeout=60)
    assert bad.returncode == 2
    assert f"features[1] 'cond': no such column in {data}" in bad.stderr


def test_an_outlier_rule_on_the_price_drops_nominal_sales_from_training_only() -> None:
    # county records carry $1 transfers between relatives: not market sales
    spec = parse_spec(GOOD + "outliers: [{column: price, min: 1000}]\n", "spec.yaml")
    n = 200
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "price": np.where(np.arange(n) % 20 == 0, 1.0, rng.uniform(1e5, 5e5, n)),
            "sqft": rng.uniform(50, 300, n),
            "cond": "good",
            "zone": "A",
        }
    )
    train, holdout = protocol_split(df, 0.2, 42)
    kept = drop_outliers(train, spec.outliers)
    assert (kept["price"] >= 1000).all()
    assert len(kept) == int((train["price"] >= 1000).sum()) < len(train)
    assert (holdout["price"] == 1.0).any()  # the holdout is scored as it is


def test_a_declared_feature_computed_from_the_price_is_warned_of(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    sqft = rng.integers(600, 3000, 200)
    price = (sqft * rng.uniform(80, 200, 200)).round(-2)
    data = tmp_path / "sales.csv"
    assessed = (0.7 * price * rng.lognormal(0, 0.15, 200)).round(-1)
    pd.DataFrame(
        {
            "price": price,
            "sqft": sqft,
            "per_sqft": (price / sqft).round(2),
            "beds": sqft // 500,
            "assessed_value": assessed,
            "sales_ratio": (assessed / price).round(6),
        }
    ).to_csv(data, index=False)
    f = tmp_path / "spec.yaml"
    leaks = "  - {name: per_sqft, kind: numeric}\n  - {name: sales_ratio, kind: numeric}\n"
    f.write_text(
        "target: {column: price}\nsize: sqft\nfeatures:\n"
        "  - {name: sqft, kind: numeric}\n  - {name: beds, kind: numeric}\n"
        "  - {name: assessed_value, kind: numeric}\n" + leaks
    )
    env = base_env(tmp_path / "pp")
    leaky = run_cli(["spec", "check", str(f), "--data", str(data)], env, timeout=60)
    assert leaky.returncode == 0, leaky.stderr
    warned = leaky.stderr.replace("\n", " ")
    assert "feature 'per_sqft' is computed from the price: with 'sqft'" in warned
    assert "feature 'sales_ratio' is computed from the price: with 'assessed_value'" in warned
    assert "'sqft' is computed" not in warned  # the size column stays
    assert "'assessed_value' is computed" not in warned  # an amount beside a share stays
    f.write_text(f.read_text().replace(leaks, ""))
    clean = run_cli(["spec", "check", str(f), "--data", str(data)], env, timeout=60)
    assert clean.returncode == 0 and "warning" not in clean.stderr


def test_the_published_json_schema_is_the_models() -> None:
    published = json.loads((ROOT / "docs" / "spec.schema.json").read_text())
    assert published == json_schema(), (
        "run: prices-predictor spec schema --out docs/spec.schema.json"
    )
    assert {"target", "features", "engineered", "location"} <= set(published["properties"])


def test_names_become_snake_case_api_fields() -> None:
    assert api_name("Gr Liv Area") == "gr_liv_area"
    assert api_name("1st Flr SF") == "first_flr_sf"  # as the API has always named it
    assert api_name("livingArea") == "living_area"
    assert api_name("Sale_Price") == "sale_price"
    assert api_name("class") == "class_"  # not a Python keyword
    assert api_name("2ndHome") == "second_home"
    # accents as base letters, German's spelt out, ² as 2: a field a client can type
    assert api_name("Wohnfläche") == "wohnflaeche" and api_name("Straße") == "strasse"
    assert api_name("Surface réelle bâti") == "surface_reelle_bati"
    assert api_name("Area (m²)") == "area_m2"


def test_two_features_that_would_share_a_field_name_need_an_alias() -> None:
    data = {
        "features": [
            {"name": "Lot Area", "kind": "numeric"},
            {"name": "lot_area", "kind": "numeric"},
        ]
    }
    with pytest.raises(UserError, match="'lot_area' and 'Lot Area' both answer to the name"):
        from_dict(data)
    data["features"][0]["alias"] = "lot_area_sqft"  # 'lot_area' is then the other's own name
    assert from_dict(data).feature("Lot Area").api_name == "lot_area_sqft"


def test_settings_set_in_the_environment_override_the_spec(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for k in ("PP_OUTLIER_MAX", "PP_LOCATION_DIVISOR", "PP_LOCATION_PRIOR", "PP_LOCATION_EFFECT"):
        monkeypatch.delenv(k, raising=False)
    assert apply_settings(AMES, Settings()) is AMES  # nothing set: the spec as it is
    monkeypatch.setenv("PP_OUTLIER_MAX_LIVING_AREA", "3500")  # the old name still works
    monkeypatch.setenv("PP_LOCATION_DIVISOR", "100")
    spec = apply_settings(AMES, Settings())
    assert spec.outliers[0].max == 3500 and spec.location is not None
    assert spec.location.divisor == 100 and spec.location.prior == 10  # prior: the spec's
    monkeypatch.setenv("PP_LOCATION_EFFECT", "false")
    assert apply_settings(AMES, Settings()).location is None


def test_the_preset_is_chosen_for_ames_columns_and_inference_otherwise(
    small_ames: object,
) -> None:
    import pandas as pd

    assert isinstance(small_ames, pd.DataFrame)
    assert choose(small_ames, None, None, "x").spec == AMES
    half = small_ames[[*AMES.names()[:40], "SalePrice"]]
    assert choose(half, None, None, "x").spec == AMES  # Ames columns, half of them
    key = small_ames[["Gr Liv Area", "Overall Qual", "Neighborhood", "SalePrice"]]
    assert choose(key, None, None, "x").how == "inferred"  # the preset would impute 75
    forced = choose(small_ames, "infer", None, "x")
    assert forced.how == "inferred" and forced.spec.location is None
    renamed = small_ames.rename(columns={"Gr Liv Area": "living_area_sqft"})
    chosen = choose(renamed, None, None, "x")
    assert chosen.how == "inferred" and chosen.spec.size == "living_area_sqft"
    with pytest.raises(UserError, match="no 'SalePrice' column"):
        choose(small_ames.drop(columns=["SalePrice"]), None, None, "x")


def test_a_column_of_true_false_is_one_zero_where_numbers_are_read_in_a_table() -> None:
    # a training file's boolean column (a Parquet bool, a CSV's True/False) is a numeric
    # feature of 1/0: a body sending that column as booleans is read the same way
    from prices_predictor.spec.table import TablePlan, check_table

    spec = from_dict(
        {
            "target": {"column": "price"},
            "features": [
                {"name": "area", "kind": "numeric", "range": {"min": 0}},
                {"name": "garage", "kind": "numeric", "range": {"min": 0}},
            ],
        }
    )
    plan = TablePlan.of(spec)
    columns = {"area": np.array([80.0, 95.0, 60.0]), "garage": np.array([True, False, None])}
    checked = check_table(columns, 3, plan)
    assert checked.errors == []
    np.testing.assert_array_equal(checked.table.columns["garage"], [1.0, 0.0, np.nan])
    # a true/false among numbers or text is still no number, named with its row
    for odd, rows in (([1.0, True, 0.0], "row 1"), (["1", "2", "yes"], "row 2")):
        bad = check_table({**columns, "garage": np.array(odd, dtype=object)}, 3, plan)
        assert bad.errors[0]["field"] == "garage" and bad.errors[0]["message"].endswith(rows)
