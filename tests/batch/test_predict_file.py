"""``prices-predictor predict``: a file of houses in, one price and range per row out."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prices_predictor.batch.score import score_file
from prices_predictor.core.errors import DataError
from prices_predictor.spec.names import api_name
from prices_predictor.tracking.bundle import load_bundle
from tests.conftest import base_env, private_home, run_cli


@pytest.fixture(scope="module")
def houses(ames: pd.DataFrame) -> pd.DataFrame:
    return ames.sample(300, random_state=1).reset_index(drop=True)


def test_cli_prices_a_csv_row_for_row(
    bundle_dir: Path, houses: pd.DataFrame, tmp_path: Path
) -> None:
    data, out = tmp_path / "houses.csv", tmp_path / "prices.csv"
    houses.to_csv(data, index=False)
    env = base_env(tmp_path / "pp", PP_MODEL_URI=str(bundle_dir))
    proc = run_cli(["predict", "--data", str(data), "--out", str(out)], env, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "priced 300 rows" in proc.stdout and "ignored columns: SalePrice" in proc.stderr
    # not a terminal: progress as plain lines on stderr, stage by stage with times
    assert "[predict] load the model done in" in proc.stderr
    assert "[predict] rows priced: 300/300" in proc.stderr
    assert "[predict] read, check and price done in" in proc.stderr
    quiet = run_cli(["predict", "--data", str(data), "--out", str(out), "--quiet"], env)
    assert quiet.returncode == 0 and "[predict]" not in quiet.stderr
    got = pd.read_csv(out)
    assert list(got.columns) == ["Order", "PID", "price", "price_low", "price_high"]
    np.testing.assert_array_equal(got["PID"], houses["PID"])
    model, _ = load_bundle(bundle_dir)
    np.testing.assert_allclose(got["price"], model.predict_price(houses), atol=0.006)
    assert (got["price_low"] < got["price"]).all() and (got["price"] < got["price_high"]).all()

    bad = houses.copy()
    bad.loc[[3, 7], "Overall Qual"] = [12, 0]
    bad.to_csv(data, index=False)
    before = out.read_bytes()
    proc = run_cli(["predict", "--data", str(data), "--out", str(out)], env, timeout=180)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "Overall Qual" in proc.stderr and "range: in [1, 10]" in proc.stderr
    assert out.read_bytes() == before  # nothing written over the last good output

    tiny = tmp_path / "tiny.csv"
    tiny.write_text("gr_liv_area,overall_qual,neighborhood\n1500,7,CollgCr\n,5,\n")
    proc = run_cli(["predict", "--data", str(tiny), "--out", str(out)], env, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "feature columns absent (e.g. Lot Frontage" in proc.stderr
    assert "Gr Liv Area missing in 1 row: imputed" in proc.stderr
    assert "Year Built missing in 2 rows: imputed" in proc.stderr
    assert len(pd.read_csv(out)) == 2


def test_an_excel_workbook_in_and_out(
    bundle_dir: Path, houses: pd.DataFrame, tmp_path: Path
) -> None:
    data, out = tmp_path / "houses.xlsx", tmp_path / "prices.xlsx"
    houses.head(120).to_excel(data, index=False)
    env = base_env(tmp_path / "pp", PP_MODEL_URI=str(bundle_dir))
    proc = run_cli(["predict", "--data", str(data), "--out", str(out), "--quiet"], env)
    assert proc.returncode == 0, proc.stderr
    got = pd.read_excel(out)
    assert list(got.columns) == ["Order", "PID", "price", "price_low", "price_high"]
    np.testing.assert_array_equal(got["PID"], houses["PID"].head(120))
    model, _ = load_bundle(bundle_dir)
    want = model.predict_price(houses.head(120))
    np.testing.assert_allclose(got["price"], want, atol=0.006)
    # the output is the user's file: the usual permissions, not a temporary file's 0600
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


def test_a_compressed_tab_separated_export_in_and_a_compressed_csv_out(
    bundle_dir: Path, houses: pd.DataFrame, tmp_path: Path
) -> None:
    data, out = tmp_path / "houses.txt.gz", tmp_path / "prices.csv.gz"
    houses.head(80).to_csv(data, sep="\t", index=False)
    env = base_env(tmp_path / "pp", PP_MODEL_URI=str(bundle_dir))
    proc = run_cli(["predict", "--data", str(data), "--out", str(out), "--quiet"], env)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:2] == b"\x1f\x8b"  # gzip, as the name says
    got = pd.read_csv(out)
    model, _ = load_bundle(bundle_dir)
    np.testing.assert_allclose(got["price"], model.predict_price(houses.head(80)), atol=0.006)
    bad = run_cli(["predict", "--data", str(data), "--out", str(tmp_path / "p.json.gz")], env)
    assert bad.returncode == 2 and "unknown output type '.json.gz'" in bad.stderr


def test_snake_case_parquet_gives_the_same_prices(
    bundle_dir: Path, houses: pd.DataFrame, tmp_path: Path
) -> None:
    model, _ = load_bundle(bundle_dir)
    snake = houses.drop(columns=["SalePrice"]).rename(columns=api_name)
    snake.to_parquet(tmp_path / "in.parquet")
    res = score_file(model, str(tmp_path / "in.parquet"), tmp_path / "out.parquet", ["pid"])
    got = pd.read_parquet(tmp_path / "out.parquet")
    assert res.rows == 300 and res.kept == ["pid"] and res.ignored == ["order"]
    np.testing.assert_array_equal(got["price"], model.predict_price(houses))


def test_csv_and_parquet_of_the_same_houses_get_the_same_prices(
    bundle_dir: Path, houses: pd.DataFrame, tmp_path: Path
) -> None:
    model, _ = load_bundle(bundle_dir)
    rows = houses.copy()
    rows.loc[:9, ["Mas Vnr Type", "Mas Vnr Area"]] = ["None", 250.0]  # as in some Ames rows
    csv = rows.astype({"MS SubClass": float})  # written "20.0": the same level as 20
    csv.loc[0, "MS SubClass"] = np.nan
    rows.loc[0, "MS SubClass"] = None
    csv.to_csv(tmp_path / "in.csv", index=False)
    rows.to_parquet(tmp_path / "in.parquet")
    score_file(model, str(tmp_path / "in.csv"), tmp_path / "a.parquet")
    score_file(model, str(tmp_path / "in.parquet"), tmp_path / "b.parquet")
    a, b = pd.read_parquet(tmp_path / "a.parquet"), pd.read_parquet(tmp_path / "b.parquet")
    np.testing.assert_allclose(a["price"], b["price"], rtol=1e-12)
    np.testing.assert_allclose(a["price"], model.predict_price(rows), rtol=1e-12)


def test_warnings_name_what_was_imputed_or_out_of_range(
    bundle_dir: Path, houses: pd.DataFrame, tmp_path: Path
) -> None:
    model, _ = load_bundle(bundle_dir)
    rows = houses.drop(columns=["Year Built"])
    rows.loc[0, "Gr Liv Area"] = 20_000
    rows.loc[1:4, "Neighborhood"] = None
    rows.to_csv(tmp_path / "in.csv", index=False)
    res = score_file(model, str(tmp_path / "in.csv"), tmp_path / "out.csv")
    assert res.key_missing == {"Neighborhood": 4, "Year Built": 300}
    assert res.out_of_range["Gr Liv Area"] >= 1
    assert any(v.column == "Gr Liv Area" and "outlier" in v.rule for v in res.report.soft)


@pytest.mark.parametrize(
    ("change", "out_name", "message"),
    [
        ("none", "prices.txt", "unknown output type '.txt'"),
        ("none", "missing/prices.csv", "does not exist"),
        ("keep", "prices.csv", "no column 'Parcel' to keep"),
        ("keep_price", "prices.csv", "cannot keep 'price'"),
        ("none", "in.csv", "is the input file"),
        ("twice", "prices.csv", "'gr_liv_area' and 'Gr Liv Area' are the same feature"),
        ("text", "prices.csv", "type: must be numeric"),
    ],
)
def test_bad_files_fail_with_a_message_and_write_nothing(
    bundle_dir: Path, houses: pd.DataFrame, tmp_path: Path, change: str, out_name: str, message: str
) -> None:
    model, _ = load_bundle(bundle_dir)
    rows = houses.copy()
    if change == "twice":
        rows["gr_liv_area"] = rows["Gr Liv Area"]
    if change == "text":
        rows["Lot Area"] = rows["Lot Area"].astype(object)
        rows.loc[5, "Lot Area"] = "big"
    if change == "keep_price":
        rows["price"] = 1.0
    rows.to_csv(tmp_path / "in.csv", index=False)
    keep = {"keep": ["Parcel"], "keep_price": ["price"]}.get(change)
    with pytest.raises(DataError, match=message):
        score_file(model, str(tmp_path / "in.csv"), tmp_path / out_name, keep)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_cli_prices_with_the_registry_champion(
    trained_home: dict[str, str], bundle_dir: Path, houses: pd.DataFrame, tmp_path: Path
) -> None:
    env = private_home(trained_home, tmp_path / "pp")
    data, out = tmp_path / "houses.parquet", tmp_path / "prices.parquet"
    houses.to_parquet(data)
    proc = run_cli(["predict", "--data", str(data), "--out", str(out), "--keep", "PID"], env)
    assert proc.returncode == 0, proc.stderr
    assert "(champion)" in proc.stdout
    model, _ = load_bundle(bundle_dir)  # exported from that champion
    got = pd.read_parquet(out)
    assert list(got.columns) == ["PID", "price", "price_low", "price_high"]
    np.testing.assert_allclose(got["price"], model.predict_price(houses), rtol=1e-9)

    proc = run_cli(["predict", "--data", str(data), "--out", str(out), "--version", "1"], env)
    assert proc.returncode == 0 and "prices_predictor v1:" in proc.stdout, proc.stderr
    proc = run_cli(["predict", "--data", str(data), "--out", str(out), "--version", "9"], env)
    assert proc.returncode == 2 and "version 9 not found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_model_whose_spec_kept_spaces_around_names_still_finds_its_columns(
    tmp_path: Path,
) -> None:
    # specs written before the reader dropped the spaces around header names keep them
    from prices_predictor.batch.score import read_houses
    from prices_predictor.spec.io import from_dict

    spec = from_dict(
        {
            "target": {"column": " Price "},
            "features": [
                {"name": " Area ", "kind": "numeric"},
                {"name": "Town", "kind": "nominal"},
            ],
        }
    )
    path = tmp_path / "houses.csv"
    path.write_text(" Price , Area ,Town\n100000,80,a\n150000,120,b\n")
    df = read_houses(str(path), spec)
    assert df[" Area "].tolist() == [80, 120] and df["Town"].tolist() == ["a", "b"]
