"""``spec infer``: what each column of other data sets is taken for, and why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from prices_predictor.core.errors import DataError
from prices_predictor.data.split import protocol_split, training_rows
from prices_predictor.spec.infer import infer
from prices_predictor.spec.io import from_dict
from tests import datasets
from tests.conftest import base_env, run_cli


def _decisions(name: str) -> tuple[dict[str, object], dict[str, str]]:
    found = infer(datasets.load(name), datasets.target(name))
    return found.spec, {d.column: d.role for d in found.decisions}


def test_a_county_file_in_camel_case_with_yes_no_amenities() -> None:
    spec, roles = _decisions("saratoga")
    assert roles["price"] == "target"
    assert roles["waterfront"] == roles["centralAir"] == "ordinal"  # No < Yes
    assert roles["heating"] == "nominal" and roles["livingArea"] == "numeric"
    s = from_dict(spec)
    assert s.size == "livingArea" and s.monotone() == {"livingArea": 1}
    assert s.feature("waterfront").ranks() == {"No": 0.0, "Yes": 1.0}
    assert s.feature("living_area" if False else "livingArea").api_name == "living_area"
    assert "livingArea" in s.key_features


def test_a_city_file_with_coordinates_gets_the_location_effect_from_them() -> None:
    spec, roles = _decisions("sacramento")
    s = from_dict(spec)
    assert s.location is not None and s.location.kind == "coordinates"
    assert (s.location.latitude, s.location.longitude) == ("latitude", "longitude")
    assert roles["zip"] == "nominal" and roles["city"] == "nominal" and s.size == "sqft"
    # as a well-known Melbourne file names them
    renamed = datasets.load("sacramento").rename(
        columns={"latitude": "Lattitude", "longitude": "Longtitude", "sqft": "BuildingArea"}
    )
    melbourne = from_dict(infer(renamed, "price").spec)
    loc = melbourne.location
    assert loc is not None and (loc.latitude, loc.longitude) == ("Lattitude", "Longtitude")
    assert melbourne.size == "BuildingArea" and melbourne.monotone()["BuildingArea"] == 1


def test_coordinates_named_inside_longer_names_but_not_lengths() -> None:
    df = datasets.load("sacramento")
    # as a well-known Taipei valuation file names them; 'Lot Long' is a length in feet
    renamed = df.rename(columns={"latitude": "X5 latitude", "longitude": "X6 longitude"})
    renamed["Lot Long"] = np.random.default_rng(0).integers(40, 160, len(df))
    found = infer(renamed, "price")
    loc = from_dict(found.spec).location
    assert loc is not None and (loc.latitude, loc.longitude) == ("X5 latitude", "X6 longitude")
    why = {d.column: d.why for d in found.decisions}
    assert why["Lot Long"].startswith("numbers")


def test_ames_as_another_package_publishes_it() -> None:
    spec, roles = _decisions("modeldata_ames")
    s = from_dict(spec)
    # quality words on a known scale are ordinal, in the scale's order
    assert roles["Exter_Cond"] == "ordinal"
    ranks = s.feature("Exter_Cond").ranks()
    assert ranks["Poor"] < ranks["Fair"] < ranks["Typical"] < ranks["Good"] < ranks["Excellent"]
    assert s.location is not None and s.location.kind == "coordinates"
    assert s.sale_date is not None and s.sale_date.year == "Year_Sold"
    assert [e.name for e in s.engineered] == ["age_at_sale"]
    assert s.size == "Gr_Liv_Area"


def test_ids_row_numbers_constants_and_price_columns_are_left_out(ames: pd.DataFrame) -> None:
    df = ames.head(500).assign(
        List_Price=ames["SalePrice"].head(500) * 1.05,
        Constant=1,
        Notes=[f"free text {i}" for i in range(500)],
    )
    # the index of a frame sampled and saved by pandas: no header, numbers out of order
    df.insert(0, "Unnamed: 0", np.random.default_rng(0).permutation(5000)[:500])
    found = infer(df)
    roles = {d.column: d.role for d in found.decisions}
    why = {d.column: d.why for d in found.decisions}
    assert roles["Order"] == "left out" and "row number" in why["Order"]
    assert roles["PID"] == "id" and found.spec["id"] == "PID"
    assert roles["List_Price"] == "left out" and "leak" in why["List_Price"]
    assert roles["Constant"] == "left out" and roles["Notes"] == "left out"
    assert roles["Unnamed: 0"] == "left out" and "no header" in why["Unnamed: 0"]
    assert roles["MS SubClass"] == "nominal"  # integer codes named like a class


def test_columns_computed_from_the_price_are_left_out(ames: pd.DataFrame) -> None:
    df = ames.head(800)
    price = df["SalePrice"]
    listed = (price * np.random.default_rng(0).uniform(0.9, 1.1, len(df))).round(-2)
    df = df.assign(
        Cost_Per_SF=(price / df["Gr Liv Area"]).round(2),  # named like a ratio
        ppsf=(price / df["Gr Liv Area"]).round(2),  # not, but its partner is the size
        SP_LP=(100 * price / listed).round(3),  # its partner is a price column
        List_Price=listed,
        # the price in constant dollars: with it, the sale year gives the price back too,
        # yet the year stays (two values cannot carry the price)
        Real_Price=price / np.where(df["Yr Sold"] >= 2010, 1.08, 1.0),
    )
    found = infer(df)
    roles = {d.column: d.role for d in found.decisions}
    why = {d.column: d.why for d in found.decisions}
    for col, partner in (
        ("Cost_Per_SF", "Gr Liv Area"),
        ("ppsf", "Gr Liv Area"),
        ("SP_LP", "List_Price"),
    ):
        assert roles[col] == "left out", col
        assert why[col].startswith(f"computed from the price: with '{partner}'"), why[col]
    assert roles["Gr Liv Area"] == "numeric" and found.spec["size"] == "Gr Liv Area"
    assert roles["Yr Sold"] == "numeric"
    assert sum("computed from the price" in w for w in why.values()) == 3


def test_an_assessors_sales_file_keeps_the_assessed_value_and_drops_the_sales_ratio(
    ames: pd.DataFrame,
) -> None:
    # a state's recorded sales (Connecticut's layout): the assessed value and the
    # assessment-to-sale ratio give the price back together; only the ratio is derived
    head = ames.head(600)
    price = head["SalePrice"]
    rng = np.random.default_rng(0)
    assessed = (0.7 * price * rng.lognormal(0, 0.15, len(head))).round(-1)
    df = pd.DataFrame(
        {
            "Serial Number": rng.permutation(10**6)[:600] + 10**5,
            "Town": head["Neighborhood"],
            "Assessed Value": assessed,
            "Sale Amount": price,
            "Sales Ratio": (assessed / price).round(6),
        }
    )
    found = infer(df)
    roles = {d.column: d.role for d in found.decisions}
    why = {d.column: d.why for d in found.decisions}
    assert found.spec["target"]["column"] == "Sale Amount"
    assert roles["Assessed Value"] == "numeric", why["Assessed Value"]
    assert roles["Sales Ratio"] == "left out"
    assert why["Sales Ratio"].startswith("computed from the price: with 'Assessed Value'")
    assert roles["Serial Number"] == "id" and found.spec["id"] == "Serial Number"


def test_coordinates_given_as_points_are_named_as_such(ames: pd.DataFrame) -> None:
    head = ames.head(300)
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(41.0, 42.0, 300), rng.uniform(-73.6, -71.8, 300)
    df = pd.DataFrame(
        {
            "price": head["SalePrice"],
            "area": head["Gr Liv Area"],
            "Location": [f"POINT ({x:.5f} {y:.5f})" for x, y in zip(lon, lat, strict=True)],
            "geo": [f"({y:.6f}, {x:.6f})" for x, y in zip(lon, lat, strict=True)],
        }
    )
    found = infer(df)
    why = {d.column: d.why for d in found.decisions}
    for col in ("Location", "geo"):
        assert why[col].startswith("coordinates as points"), why[col]
        assert "latitude and longitude as two columns" in why[col]


def test_a_listing_site_export_keeps_its_size_and_drops_its_price_per_size(
    ames: pd.DataFrame,
) -> None:
    # a listing site's sold-homes export: the price per square foot is named with a sign
    # ('$/SQUARE FEET'), so only the ratio may go, and the listing number is an id
    head = ames.head(600)
    price = head["SalePrice"]
    df = pd.DataFrame(
        {
            "PRICE": price,
            "SQUARE FEET": head["Gr Liv Area"],
            "$/SQUARE FEET": (price / head["Gr Liv Area"]).round(),
            "LOT SIZE": head["Lot Area"],
            "BEDS": head["Bedroom AbvGr"],
            "MLS#": np.random.default_rng(0).permutation(10**6)[:600] + 10**6,
        }
    )
    found = infer(df, "PRICE")
    roles = {d.column: d.role for d in found.decisions}
    why = {d.column: d.why for d in found.decisions}
    assert roles["SQUARE FEET"] == "numeric" and found.spec["size"] == "SQUARE FEET"
    assert roles["$/SQUARE FEET"] == "left out"
    assert why["$/SQUARE FEET"].startswith("computed from the price: with 'SQUARE FEET'")
    assert roles["MLS#"] == "id" and found.spec["id"] == "MLS#"


def test_the_holdout_prices_decide_nothing(ames: pd.DataFrame) -> None:
    df = ames.head(800)
    known = training_rows(len(df))
    assert known.sum() == len(protocol_split(df)[0])
    # the holdout's prices made to follow the lot area alone
    scrambled = df.copy()
    lot = scrambled.loc[~known, "Lot Area"]
    scrambled.loc[~known, "SalePrice"] = 10 * lot
    assert infer(scrambled, known=known).spec == infer(df, known=known).spec
    assert infer(scrambled).spec != infer(df).spec  # they would decide, were they read


def test_a_column_of_datetimes_is_a_date(ames: pd.DataFrame) -> None:
    # Parquet and Excel give datetimes, not text: they are dates, not numbers of nanoseconds
    df = ames.head(300).assign(
        Sold=pd.Timestamp("2008-01-01") + pd.to_timedelta(np.arange(300) * 3, unit="D")
    )
    found = infer(df)
    assert {d.column: d.role for d in found.decisions}["Sold"] == "date"
    assert found.spec["sale_date"] == {"column": "Sold"}


def test_no_price_column_is_a_clear_error() -> None:
    with pytest.raises(DataError, match=r"no column is named like a sale price.*: a, b\)$"):
        infer(pd.DataFrame({"a": [1, 2], "b": [3, 4], "note": ["x", "y"]}))
    wide = pd.DataFrame({f"c{i}": [1.0, 2.0] for i in range(12)})
    with pytest.raises(DataError, match=r"c0, c1, c2, c3, c4, c5, c6, c7, \.\.\. 4 more\)$"):
        infer(wide)
    with pytest.raises(DataError, match=r"\(the file has no numeric column\)"):
        infer(pd.DataFrame({"note": ["x", "y"]}))
    with pytest.raises(DataError, match="which column is the sale price: price, sale_price"):
        infer(pd.DataFrame({"price": [1, 2], "sale_price": [3, 4], "x": [1, 2]}))
    # --target spelt other than the header (a trailing space, other case)
    with pytest.raises(DataError, match="; did you mean 'Sale_Price '"):
        infer(pd.DataFrame({"Sale_Price ": [1, 2], "x": [1, 2]}), "sale price")


@pytest.mark.parametrize(
    "name",
    ["Kaufpreis", "precio", "prix", "Valeur fonciere", "sale_amount", "Verkoopprijs", "Slutpris"],
)
def test_a_price_named_in_another_language_or_as_an_amount_is_the_target(name: str) -> None:
    df = datasets.load("windsor").rename(columns={"price": name})
    found = infer(df)
    assert found.spec["target"]["column"] == name
    # an asking price beside it, in the same language, is a price column: left out
    asked = df.assign(Angebotspreis=df[name] * 1.05)
    roles = {d.column: d.role for d in infer(asked, name).decisions}
    assert roles["Angebotspreis"] == "left out"
    with pytest.raises(DataError, match="which column is the sale price"):
        infer(df.assign(precio_lista=df[name]))  # two of them: the user says which


@pytest.mark.parametrize(
    ("living", "land"),
    [
        ("Wohnfläche", "Grundstücksfläche"),
        ("Surface réelle bâti", "Surface terrain"),
        ("superficie_construida", "superficie_terreno"),
        ("Living area (m²)", "plot"),
        ("Woonoppervlakte", "Perceeloppervlakte"),
        ("Boarea", "Tomtarea"),
        ("Área útil", "Área do terreno"),
    ],
)
def test_the_house_size_is_found_by_its_name_in_other_languages(living: str, land: str) -> None:
    df = datasets.load("windsor").rename(columns={"lotsize": land})
    # a living area: what the lot size would be for a house on a tenth of it, plus noise
    rng = np.random.default_rng(0)
    df[living] = (df[land] / 10 * rng.uniform(0.8, 1.2, len(df))).round()
    found = infer(df, "price")
    assert found.spec["size"] == living  # the house before its land
    assert from_dict(found.spec).monotone().get(living) == 1
    assert infer(df.drop(columns=[living]), "price").spec["size"] == land


def test_cli_prints_the_yaml_and_the_decisions(tmp_path: Path) -> None:
    data = datasets.to_csv("windsor", tmp_path)
    out = tmp_path / "windsor.yaml"
    proc = run_cli(
        ["spec", "infer", "--data", str(data), "--out", str(out)],
        base_env(tmp_path / "pp"),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "driveway" in proc.stderr and "levels on a known scale: No < Yes" in proc.stderr
    spec = from_dict(yaml.safe_load(out.read_text()))
    assert spec.target.column == "price" and spec.feature("driveway").kind == "ordinal"
    check = run_cli(["spec", "check", str(out), "--data", str(data)], base_env(tmp_path / "pp"))
    assert check.returncode == 0, check.stderr


def test_houses_without_a_price_are_left_out_and_decide_nothing(tmp_path: Path) -> None:
    # a city's file that also lists houses not sold yet: their price cell is empty, or 0 as
    # New York City's files record a transfer without a sale
    df = datasets.load("sacramento")
    listed = df.sample(40, random_state=1).assign(price=np.where(np.arange(40) % 2, np.nan, 0))
    mixed = pd.concat([df.iloc[:300], listed.iloc[:20], df.iloc[300:], listed.iloc[20:]])
    env = base_env(tmp_path / "pp")
    specs = []
    for name, frame in (("sold", df), ("listed", mixed)):
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        out = tmp_path / f"{name}.yaml"
        proc = run_cli(["spec", "infer", "--data", str(path), "--out", str(out)], env, 120)
        assert proc.returncode == 0, proc.stderr
        specs.append({k: v for k, v in yaml.safe_load(out.read_text()).items() if k != "name"})
    assert (
        "40 of 972 rows have no price in 'price' (20 empty: not sold, or withheld; 20 of 0: "
        "a transfer without a sale); left out, 932 sales remain" in " ".join(proc.stderr.split())
    )
    # the priced rows keep their order, so the protocol split's training part is the same
    assert specs[0] == specs[1]
    empty = tmp_path / "empty.csv"
    df.assign(price="").to_csv(empty, index=False)
    proc = run_cli(["spec", "infer", "--data", str(empty), "--target", "price"], env, 120)
    assert proc.returncode == 2
    assert "no row has a price in 'price' (all 932 empty or 0)" in proc.stderr
    # a text column named as the target by mistake: stopped at once, for infer and train
    data = datasets.to_csv("sacramento", tmp_path)
    for cmd in (["spec", "infer"], ["train", "--no-deploy"]):
        proc = run_cli([*cmd, "--data", str(data), "--target", "city"], env, 120)
        assert proc.returncode == 2, proc.stderr
        assert "'city' is not a price: 932 of 932 cells are not numbers (e.g. " in proc.stderr
        assert "Traceback" not in proc.stderr


def test_nominal_prices_are_left_out_of_training_by_a_rule_on_the_price() -> None:
    # county records: $1 deeds between relatives among the sales
    df = datasets.load("sacramento")
    assert "outliers" not in infer(df, "price").spec
    deeds = df.assign(price=df["price"].where(df.index % 50 != 7, 1))
    found = infer(deeds, "price")
    floor = found.spec["outliers"][0]["min"]
    assert found.spec["outliers"][0]["column"] == "price"
    assert 1 < floor <= 0.01 * df["price"].median()
    why = {d.column: d.why for d in found.decisions}["price"]
    assert f"{(df.index % 50 == 7).sum()} under " in why and "left out of training" in why
    # the other decisions are those of the clean file
    clean = {d.column: d.role for d in infer(df, "price").decisions}
    assert {d.column: d.role for d in found.decisions} == clean


def test_columns_whose_api_names_would_be_one_get_numbered_aliases() -> None:
    from prices_predictor.spec.model import field_map
    from prices_predictor.spec.requests import request_schema

    df = datasets.load("windsor")
    rng = np.random.default_rng(0)
    # a county export with its lot size twice, spelt apart, and a column already so numbered
    df["LotArea"] = df["lotsize"]
    df["Lot Area"] = (df["lotsize"] * rng.uniform(0.9, 1.1, len(df))).round()
    df["lot_area_2"] = rng.integers(0, 5, len(df))
    found = infer(df, "price")
    spec = from_dict(found.spec)  # valid: before, "both answer to the name 'lot_area'"
    names = field_map(spec)
    assert names["lot_area"] == "LotArea" and names["lot_area_2"] == "lot_area_2"
    assert names["lot_area_3"] == "Lot Area"
    why = {d.column: d.why for d in found.decisions}["Lot Area"]
    assert "in the API 'lot_area_3' ('lot_area' is 'LotArea')" in why
    house = request_schema(spec).house
    sent = house.model_validate({"lot_area": 1000, "lot_area_3": 2000, "lot_area_2": 3})
    assert sorted(v for v in sent.model_dump().values() if v is not None) == [3, 1000, 2000]


def test_whole_numbers_named_like_places_are_codes_not_amounts() -> None:
    df = datasets.load("windsor")
    rng = np.random.default_rng(0)
    for col in ("BOROUGH", "County", "ward", "Neighbourhood", "wardrobes"):
        df[col] = rng.integers(1, 6, len(df))
    roles = {d.column: d.role for d in infer(df, "price").decisions}
    assert [roles[c] for c in ("BOROUGH", "County", "ward", "Neighbourhood")] == ["nominal"] * 4
    assert roles["wardrobes"] == "numeric"  # a count, 'ward' only inside a word


def test_a_size_column_that_writes_0_for_unknown_gets_no_monotone_promise() -> None:
    df = datasets.load("saratoga")
    # as New York's sales files give condos a gross area of 0: 0 is "not known" there
    unknown = df.assign(livingArea=df["livingArea"].where(df.index % 20 != 3, 0))
    found = infer(unknown, "price")
    spec = from_dict(found.spec)
    assert spec.size == "livingArea" and spec.monotone() == {}
    why = {d.column: d.why for d in found.decisions}["livingArea"]
    assert "no monotone promise: 5% of its cells are 0 (a size not known)" in why
    # one typo among 1,700 houses does not take the promise away
    typo = df.assign(livingArea=df["livingArea"].where(df.index != 3, 0))
    assert from_dict(infer(typo, "price").spec).monotone() == {"livingArea": 1}


def test_a_column_named_like_a_size_that_does_not_rise_with_the_price_is_no_size() -> None:
    df = datasets.load("windsor")
    rng = np.random.default_rng(0)
    # New York's LOT: a tax lot's number, not its area
    numbered = df.drop(columns=["lotsize"]).assign(LOT=rng.integers(1, 9000, len(df)))
    spec = from_dict(infer(numbered, "price").spec)
    assert spec.size is None and spec.monotone() == {}
    assert from_dict(infer(df, "price").spec).size == "lotsize"


def test_a_price_per_area_or_a_price_trend_is_not_taken_for_the_sale_price() -> None:
    df = datasets.load("windsor")
    per_area = df.assign(price_per_sqft=df["price"] / df["lotsize"], PriceTrend=1.5)
    assert infer(per_area).spec["target"]["column"] == "price"  # before: "which column?"
    # a rentals file: its only 'price' column is a trend; the user names the target
    rents = df.rename(columns={"price": "totalRent"}).assign(pricetrend=df.index % 7 / 2)
    with pytest.raises(DataError, match="no column is named like a sale price: name it with"):
        infer(rents)
    assert infer(rents, "totalRent").spec["target"]["column"] == "totalRent"


def test_a_listing_portal_export_with_house_size_acres_and_an_earlier_sale_date() -> None:
    # the layout of a well-known US portal export: house_size, acre_lot, prev_sold_date
    df = datasets.load("windsor")
    rng = np.random.default_rng(0)
    days = pd.Series(rng.integers(0, 3000, len(df)), index=df.index)
    listed = df.assign(
        house_size=(df["lotsize"] / 4 * rng.uniform(0.8, 1.2, len(df))).round(),
        acre_lot=(df["lotsize"] / 43560).round(3),
        prev_sold_date=(pd.Timestamp("2005-01-01") + pd.to_timedelta(days, unit="D")).astype(str),
    ).drop(columns=["lotsize"])
    spec = from_dict(infer(listed, "price").spec)
    assert spec.size == "house_size" and spec.monotone() == {"house_size": 1}
    assert spec.sale_date is None  # a date of the house's sale before, not of this one
    assert infer(listed.drop(columns=["house_size"]), "price").spec["size"] == "acre_lot"
