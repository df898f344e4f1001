"""Every ingestion strategy, and every way a file can be wrong, through the API and the CLI."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from prices_predictor.core.errors import DataError
from prices_predictor.data.ingest import AmesSource, load, source_for
from tests.conftest import base_env, run_cli


def test_bundled_ames_has_the_de_cock_shape() -> None:
    df = load("ames")
    assert df.shape == (2930, 82)
    assert "Gr Liv Area" in df.columns
    assert AmesSource().fingerprint().startswith("ames-")


@pytest.mark.parametrize(
    "fmt",
    ["csv", "parquet", "zip", "xlsx", "csv.gz", "tsv.bz2", "txt.xz", "txt", "tsv.gz", "txt.zip"],
)
def test_file_formats_read_the_same_rows(
    fmt: str, small_ames: pd.DataFrame, tmp_path: Path
) -> None:
    head = small_ames.head(50)
    path = tmp_path / f"data.{fmt}"
    if fmt.startswith("csv"):  # pandas compresses by the name's suffix, as gzip would
        head.to_csv(path, index=False)
    elif fmt.startswith(("tsv", "txt")):  # tab-separated, as MLS exports name them
        head.to_csv(path, sep="\t", index=False)
    elif fmt == "parquet":
        head.to_parquet(path, index=False)
    elif fmt == "xlsx":
        head.to_excel(path, index=False)
    elif fmt == "txt.zip":  # an archive whose one table is tab-separated text
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("houses.txt", head.to_csv(sep="\t", index=False))
    else:
        with zipfile.ZipFile(path, "w") as z:  # the read-me beside the table is no table
            z.writestr("README.txt", "Sales of 2010, exported from the county's system.\n")
            z.writestr("houses.csv", head.to_csv(index=False))
    df = load(str(path))
    assert len(df) == 50
    assert df["SalePrice"].tolist() == head["SalePrice"].tolist()
    assert len(source_for(str(path)).fingerprint()) == 16
    # "None" is an Ames level (no masonry veneer), not a missing value, in every format
    assert (head["Mas Vnr Type"] == "None").any()
    want = head["Mas Vnr Type"].fillna("<missing>").tolist()
    assert df["Mas Vnr Type"].fillna("<missing>").tolist() == want
    wanted = {"Mas Vnr Type", "Neighborhood", "MS SubClass", "absent"}
    cats = source_for(str(path)).read(categories=wanted)
    assert isinstance(cats["Neighborhood"].dtype, pd.CategoricalDtype)
    # numeric codes stay numbers (a CSV's "20" is the level 20, as without categories)
    codes = cats["MS SubClass"].astype(object).tolist()
    assert all(isinstance(v, int | float) for v in codes), codes[:3]
    assert [float(v) for v in codes] == head["MS SubClass"].astype(float).tolist()
    assert cats["Mas Vnr Type"].astype(object).fillna("<missing>").tolist() == want
    assert cats["Gr Liv Area"].tolist() == head["Gr Liv Area"].tolist()


def test_a_parquet_file_with_pandas_extension_types_reads_as_its_csv(tmp_path: Path) -> None:
    # what a team's pandas code writes: categoricals, nullable integers, floats and
    # booleans, strings, dates with a time zone
    n = 120
    rng = np.random.default_rng(3)
    area = rng.uniform(600, 3000, n).round()
    beds = pd.array((area // 500).astype(int), dtype="Int64")
    beds[::7] = pd.NA
    garage = pd.array(rng.random(n) < 0.5, dtype="boolean")
    garage[::11] = pd.NA
    typed = pd.DataFrame(
        {
            "sold": pd.Timestamp("2021-03-01", tz="Asia/Tokyo")
            + pd.to_timedelta(rng.integers(0, 700, n), "D"),
            "price": pd.array((area * rng.uniform(90, 140, n)).round(-2), dtype="Float64"),
            "area": area,
            "beds": beds,
            "garage": garage,
            "pool": rng.random(n) < 0.1,
            "area_name": pd.Categorical(rng.choice(["north", "south", "east"], n)),
            "street": pd.array(rng.choice(["Elm", "Oak", None], n), dtype="string"),
        }
    )
    pq_path, csv_path = tmp_path / "typed.parquet", tmp_path / "plain.csv"
    typed.to_parquet(pq_path, index=False)
    typed.assign(sold=typed["sold"].dt.strftime("%Y-%m-%d")).to_csv(csv_path, index=False)
    got, plain = load(str(pq_path), "price"), load(str(csv_path), "price")
    for col in ("price", "area", "beds", "garage", "pool", "area_name", "street"):
        assert got[col].dtype.kind == plain[col].dtype.kind, (col, got[col].dtype)
        pd.testing.assert_series_equal(got[col], plain[col], check_dtype=False)
    # the sale day as written in Tokyo, not shifted to the UTC day before
    assert (got["sold"].dt.strftime("%Y-%m-%d") == plain["sold"]).all()
    env = base_env(tmp_path / "pp")
    proc = run_cli(["spec", "infer", "--data", str(pq_path), "--target", "price"], env)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    spec = yaml.safe_load(proc.stdout)
    kinds = {f["name"]: f["kind"] for f in spec["features"]}
    assert kinds["area_name"] == "nominal" and kinds["beds"] == "numeric"
    assert spec["size"] == "area"


def test_semicolon_and_tab_files_with_their_own_number_marks(
    small_ames: pd.DataFrame, tmp_path: Path
) -> None:
    head = small_ames.head(50)[["Gr Liv Area", "Neighborhood", "Lot Frontage", "SalePrice"]]
    head = head.assign(per_sf=head["SalePrice"] / head["Gr Liv Area"])
    euro, tab = tmp_path / "euro.csv", tmp_path / "tab.txt.gz"
    head.to_csv(euro, sep=";", decimal=",", index=False)  # 1234,5 as a European sheet exports
    head.to_csv(tab, sep="\t", index=False)  # gzip-compressed, by its name
    for path in (euro, tab):
        df = load(str(path))
        assert list(df.columns) == list(head.columns), path
        assert df["Neighborhood"].tolist() == head["Neighborhood"].tolist()
        np.testing.assert_allclose(df["per_sf"], head["per_sf"], rtol=1e-12)
        np.testing.assert_allclose(df["Lot Frontage"], head["Lot Frontage"], rtol=1e-12)
    # points for thousands, no decimals at all: still a European file
    thousands = tmp_path / "thousands.csv"
    thousands.write_text(
        "Gr Liv Area;SalePrice;Neighborhood\n1.656;215.000;NAmes\n896;105.000;NAmes\n"
    )
    df = load(str(thousands))
    assert df["SalePrice"].tolist() == [215000, 105000]
    assert df["Gr Liv Area"].tolist() == [1656, 896]
    # semicolons with decimal points stay points
    points = tmp_path / "points.csv"
    head.to_csv(points, sep=";", index=False)
    np.testing.assert_allclose(load(str(points))["per_sf"], head["per_sf"], rtol=1e-12)
    # the CLI reads them as training does
    for path in (euro, tab):
        proc = run_cli(["spec", "infer", "--data", str(path), "--quiet"], base_env(tmp_path / "pp"))
        assert proc.returncode == 0, proc.stderr
        spec = yaml.safe_load(proc.stdout)
        kinds = {f["name"]: f["kind"] for f in spec["features"]}
        assert kinds["Gr Liv Area"] == "numeric" and kinds["Neighborhood"] == "nominal", path


def test_exports_joined_with_their_headers_read_as_one_table(
    small_ames: pd.DataFrame, tmp_path: Path
) -> None:
    head = small_ames.head(30)[["SalePrice", "Gr Liv Area", "Lot Frontage", "Neighborhood"]]
    joined = tmp_path / "joined.csv"  # cat jan.csv feb.csv > joined.csv
    joined.write_text(head.iloc[:12].to_csv(index=False) + head.iloc[12:].to_csv(index=False))
    euro = tmp_path / "joined_euro.csv"  # the same with decimal commas
    kw = {"sep": ";", "decimal": ",", "index": False}
    euro.write_text(head.iloc[:12].to_csv(**kw) + head.iloc[12:].to_csv(**kw))
    for path in (joined, euro):
        df = load(str(path))
        assert len(df) == 30 and df["SalePrice"].tolist() == head["SalePrice"].tolist()
        np.testing.assert_allclose(df["Lot Frontage"], head["Lot Frontage"], rtol=1e-12)
        assert df["Gr Liv Area"].dtype.kind in "if", path
    cats = source_for(str(joined)).read(categories={"Neighborhood"})["Neighborhood"]
    assert set(cats.cat.categories) == set(head["Neighborhood"])  # not 'Neighborhood'


def test_a_row_of_units_under_the_header_is_not_data(
    small_ames: pd.DataFrame, tmp_path: Path
) -> None:
    head = small_ames.head(30)[["SalePrice", "Gr Liv Area", "Neighborhood", "Lot Frontage"]]
    units = pd.DataFrame([["(USD)", "(sq ft)", "", "(ft)"]], columns=head.columns)
    sheet = pd.concat([units, head.astype(object)], ignore_index=True)
    csv, book = tmp_path / "units.csv", tmp_path / "units.xlsx"
    sheet.to_csv(csv, index=False)
    sheet.to_excel(book, index=False)
    for path in (csv, book):
        df = load(str(path))
        assert len(df) == 30 and df["SalePrice"].tolist() == head["SalePrice"].tolist(), path
        assert df["Gr Liv Area"].dtype.kind in "if"
        assert df["Neighborhood"].tolist() == head["Neighborhood"].tolist()
    # a first house with one word where a number belongs is a house, not units
    typo = head.astype(object)
    typo.iloc[0, 1] = "large"
    typo.to_csv(csv, index=False)
    assert load(str(csv))["Gr Liv Area"].iloc[0] == "large"


def test_a_workbook_with_a_title_above_its_table(small_ames: pd.DataFrame, tmp_path: Path) -> None:
    import openpyxl

    head = small_ames.head(20)[["Gr Liv Area", "Neighborhood", "SalePrice"]]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Sales report, third quarter"])
    sheet.append([])
    sheet.append(list(head.columns))
    for row in head.itertuples(index=False):
        sheet.append(list(row))
    # a read-me sheet before the data, as exports from a CRM carry: the table is read
    notes = book.create_sheet("README", 0)
    notes.append(["Exported from the CRM"])
    notes.append(["Prices in USD"])
    path = tmp_path / "report.xlsx"
    book.save(path)
    src = source_for(str(path))
    assert src.header() == list(head.columns)  # type: ignore[attr-defined]
    df = src.read()
    assert list(df.columns) == list(head.columns)
    assert df["SalePrice"].tolist() == head["SalePrice"].tolist()


def test_a_csv_with_a_title_above_its_table(small_ames: pd.DataFrame, tmp_path: Path) -> None:
    head = small_ames.head(40)[["SalePrice", "Gr Liv Area", "Neighborhood", "Lot Frontage"]]
    titled = tmp_path / "report.csv"  # as reports exported from a CRM begin
    titled.write_text(
        "Sales report, third quarter,,,\nExported 2026-10-01 by the back office,,,\n\n"
        + head.to_csv(index=False)
    )
    euro = tmp_path / "report_euro.csv"  # a spreadsheet's: the title padded with separators
    euro.write_text("Verkäufe 2026;;;\n" + head.to_csv(sep=";", decimal=",", index=False))
    for path in (titled, euro):
        src = source_for(str(path))
        assert src.header() == list(head.columns), path  # type: ignore[attr-defined]
        df = load(str(path))
        assert df["SalePrice"].tolist() == head["SalePrice"].tolist(), path
        np.testing.assert_allclose(df["Lot Frontage"], head["Lot Frontage"], rtol=1e-12)
    proc = run_cli(["spec", "infer", "--data", str(titled)], base_env(tmp_path / "pp"), 60)
    assert proc.returncode == 0, proc.stderr
    kinds = {f["name"]: f["kind"] for f in yaml.safe_load(proc.stdout)["features"]}
    assert kinds["Gr Liv Area"] == "numeric" and kinds["Neighborhood"] == "nominal"
    # a header with a name missing (an index pandas wrote) is still the first line
    indexed = tmp_path / "indexed.csv"
    head.to_csv(indexed)
    assert len(load(str(indexed))) == 40
    from prices_predictor.spark.score import _csv_dialect

    with pytest.raises(DataError, match=r"3 lines above the header.*--engine local"):
        _csv_dialect(str(titled))


def test_areas_and_counts_with_their_unit_are_numbers(tmp_path: Path) -> None:
    # as listing sites write them: one unit per column; codes in another currency
    path = tmp_path / "listings.csv"
    path.write_text(
        "price,area,beds,baths,size,rooms\n"
        '"R$ 420,000","1,200 sq ft",3 bds,2 ba,2 BHK,2 BHK\n'
        '"250,000 USD",850 sq. ft.,4 bds,1 ba,3 BHK,34 sq m\n'
        "310000,900,1 bd,3 Ba,1 bhk,4 Bedroom\n"
    )
    df = source_for(str(path)).read()
    assert df["price"].tolist() == [420000, 250000, 310000]
    assert df["area"].tolist() == [1200, 850, 900]
    assert df["beds"].tolist() == [3, 4, 1] and df["baths"].tolist() == [2, 1, 3]
    assert df["size"].tolist() == [2, 3, 1]
    # two units in one column: not numbers of one kind, left as written (nominal)
    assert df["rooms"].tolist() == ["2 BHK", "34 sq m", "4 Bedroom"]


def test_prices_and_areas_formatted_as_spreadsheets_export_them_are_numbers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "formatted.csv"
    path.write_text(
        "price,lotsize,zip,note\n"
        '"$42,000","5,850",02134,a\n'
        '"$1,038,500","14,000",02135,b\n'
        "$49500,306,02134,c\n"
        ",,,d\n"
    )
    df = source_for(str(path)).read()
    assert df["price"].tolist()[:3] == [42000, 1038500, 49500] and df["price"].isna().iloc[3]
    assert load(str(path), target="price")["note"].tolist() == ["a", "b", "c"]  # priced rows
    assert df["lotsize"].tolist()[:3] == [5850, 14000, 306]
    assert df["note"].tolist() == ["a", "b", "c", "d"]  # text stays text
    # a column with one cell that is not a formatted number is left as written (the spec's
    # checks then name it)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text('price,area\n"$42,000","1,200"\n"$38,000",about 900\n')
    assert load(str(mixed), target="price")["area"].tolist() == ["1,200", "about 900"]
    euro = tmp_path / "euro.csv"
    euro.write_text("Preis;Flaeche\n€185.000;120,5\n1.250.000 €;98\n")
    assert load(str(euro), target="Preis")["Preis"].tolist() == [185000, 1250000]
    # amounts of money grouped with the other mark than the file's numbers: a scraped
    # listing site's euros in a comma-separated file, pounds in a semicolon one; cents and
    # multipliers keep the file's marks
    cases = {  # file text -> the columns read from it
        'prijs,area\n"€ 299.500",101.5\n"€ 450.000",120\n€ 1.250.000,220\n': {
            "prijs": [299500, 450000, 1250000],
            "area": [101.5, 120, 220],
        },
        "prijs;area\n£350,000;98,5\n£1,250,000;120\n": {"prijs": [350000, 1250000]},
        "prijs,fee,area\n$350.50,$1.250M,1\n$275.000,$2.5M,2\n": {
            "prijs": [350.5, 275.0],
            "fee": [1_250_000, 2_500_000],
        },
    }
    for i, (text, columns) in enumerate(cases.items()):
        (tmp_path / f"money{i}.csv").write_text(text)
        df = load(str(tmp_path / f"money{i}.csv"), target="prijs")
        assert {c: df[c].tolist() for c in columns} == columns, text
    # French: thousands grouped by a space or a no-break space, as sheets there export them
    french = tmp_path / "french.csv"
    french.write_text("Valeur fonciere;Surface\n190 100,00;97,2\n1\u00a0250\u202f000;120\n")
    df = load(str(french), target="Valeur fonciere")
    assert df["Valeur fonciere"].tolist() == [190100, 1250000]
    assert df["Surface"].tolist() == [97.2, 120]
    # listing sites' short amounts, several multipliers in one column, and India's lakhs and
    # crores, in words or in its digit grouping; a header written with spaces around it
    short = tmp_path / "short.csv"
    short.write_text(
        ' Price ,Asking,Area\n$850K,45 Lac,"12,50,000"\n$1.2M,1.2 Cr,"1,20,00,000"\n'
        '$95k,8.5 Lakhs,"9,500"\n'
    )
    df = load(str(short), target="Price")
    assert list(df.columns) == ["Price", "Asking", "Area"]
    np.testing.assert_allclose(df["Price"], [850_000, 1_200_000, 95_000], rtol=1e-12)
    np.testing.assert_allclose(df["Asking"], [4_500_000, 12_000_000, 850_000], rtol=1e-12)
    np.testing.assert_allclose(df["Area"], [1_250_000, 12_000_000, 9_500], rtol=1e-12)
    # rates written with a percent sign are the numbers written; a dash is an empty cell,
    # as spreadsheets export them
    rates = tmp_path / "rates.csv"
    rates.write_text(
        "price,tax rate,hoa,beds\n100000,1.25%,120,3\n120000,0.9%,-,5+\n130000,2%,\u2014,4\n"
    )
    df = load(str(rates), target="price")
    assert df["tax rate"].tolist() == [1.25, 0.9, 2.0]
    assert df["beds"].tolist() == [3, 5, 4]  # a top class of counts, 5+, is its bound
    assert df["hoa"].iloc[0] == 120 and df["hoa"].iloc[1:].isna().all()
    # New York City's sales files pad the dash of an unknown amount with spaces
    nyc = tmp_path / "nyc.csv"
    nyc.write_text(
        'SALE PRICE,LAND SQUARE FEET,BUILDING CLASS,NEIGHBORHOOD\n"$450,000"," -  ",A1,X\n'
        '"$720,000","2,500", - ,Y\n" -  ","3,000",B2,   \n'
    )
    df = source_for(str(nyc)).read()
    assert df["SALE PRICE"].iloc[:2].tolist() == [450000, 720000] and df["SALE PRICE"].isna()[2]
    assert df["LAND SQUARE FEET"].iloc[1:].tolist() == [2500, 3000]
    assert df["LAND SQUARE FEET"].isna()[0]
    assert df["BUILDING CLASS"].fillna("?").tolist() == ["A1", "?", "B2"]
    assert df["NEIGHBORHOOD"].fillna("?").tolist() == ["X", "Y", "?"]  # only spaces: empty
    cats = source_for(str(nyc)).read(categories={"BUILDING CLASS"})["BUILDING CLASS"]
    assert sorted(cats.cat.categories) == ["A1", "B2"] and cats.isna()[1]
    book = tmp_path / "nyc.xlsx"
    pd.read_csv(nyc, dtype=str, keep_default_na=False).to_excel(book, index=False)
    df = source_for(str(book)).read()
    assert df["BUILDING CLASS"].fillna("?").tolist() == ["A1", "?", "B2"]
    # a letter after a number that is not a multiplier in every cell: text, as written
    codes = tmp_path / "codes.csv"
    codes.write_text("price,unit\n100000,3B\n120000,4A\n")
    assert load(str(codes), target="price")["unit"].tolist() == ["3B", "4A"]
    # as Excel on Windows saves "CSV (semicolon)": Windows-1252, not UTF-8
    windows = tmp_path / "windows.csv"
    windows.write_bytes("Preis;Fläche;Straße\n€185.000;120,5;Königsallee\n".encode("cp1252"))
    df = load(str(windows), target="Preis")
    assert list(df.columns) == ["Preis", "Fläche", "Straße"]
    assert df.iloc[0].tolist() == [185000, 120.5, "Königsallee"]


def test_the_spark_engine_reads_the_separator_and_refuses_what_it_cannot_read(
    tmp_path: Path,
) -> None:
    from prices_predictor.spark.score import _csv_dialect, read_table

    points, commas = tmp_path / "points.csv", tmp_path / "commas.csv"
    points.write_text("a;SalePrice\n1.5;100\n2.5;200\n")
    commas.write_text("a;SalePrice\n1,5;100\n2,5;200\n")
    with pytest.raises(DataError, match=r"Excel workbooks are read by the local engine only"):
        read_table(None, str(tmp_path / "houses.xlsx"))  # type: ignore[arg-type]
    assert _csv_dialect(str(points)).sep == ";"
    assert _csv_dialect(f"file://{points}").sep == ";"
    # Windows-1252: read as ISO-8859-1 where they agree; its own characters (€) stop it
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Straße;SalePrice\nKönigsallee;100.5\n".encode("cp1252"))
    assert _csv_dialect(str(latin)).encoding == "latin-1"
    euro = tmp_path / "euro.csv"
    euro.write_bytes("Lage;SalePrice\n€ zentral;100\n".encode("cp1252"))
    with pytest.raises(DataError, match=r"Windows-1252.*--engine local"):
        _csv_dialect(str(euro))
    with pytest.raises(DataError, match=r"decimal commas.*--engine local"):
        _csv_dialect(str(commas))
    # the Spark engine's text cells: missing-value markers with spaces around them too
    from prices_predictor.spark.score import typed
    from prices_predictor.spec.io import from_dict

    spec = from_dict(
        {
            "target": {"column": "price"},
            "features": [{"name": "area", "kind": "numeric"}, {"name": "zone", "kind": "nominal"}],
        }
    )
    cells = typed(pd.DataFrame({"area": ["120", " -  "], "zone": ["A", " NA "]}), spec, csv=True)
    assert cells["area"].iloc[0] == 120 and cells["area"].isna().iloc[1]
    assert cells["zone"].iloc[0] == "A" and cells["zone"].isna().iloc[1]
    # a compressed file's dialect is read from its text; xz is for the local engine only
    zipped = tmp_path / "points.tsv.gz"
    pd.read_csv(points, sep=";").to_csv(zipped, sep="\t", index=False)
    assert _csv_dialect(str(zipped)).sep == "\t"
    with pytest.raises(DataError, match=r"xz-compressed.*--engine local.*gzip or bzip2"):
        read_table(None, str(tmp_path / "houses.csv.xz"))  # type: ignore[arg-type]


def _bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp / "empty.csv"
    empty.write_text("")
    header_only = tmp / "header.csv"
    header_only.write_text("Gr Liv Area,SalePrice\n")
    no_target = tmp / "no_target.csv"
    no_target.write_text("Gr Liv Area\n1000\n")
    corrupt = tmp / "corrupt.parquet"
    corrupt.write_bytes(b"not parquet at all")
    badzip = tmp / "bad.zip"
    badzip.write_bytes(b"PK not really")
    twozip = tmp / "two.zip"
    with zipfile.ZipFile(twozip, "w") as z:
        z.writestr("a.csv", "SalePrice\n1\n")
        z.writestr("b.csv", "SalePrice\n1\n")
    badxlsx = tmp / "bad.xlsx"
    badxlsx.write_bytes(b"PK not a workbook")
    txt = tmp / "data.json"
    txt.write_text("x")
    xls = tmp / "sales.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0 an OLE2 workbook")
    badgz = tmp / "sales.csv.gz"
    badgz.write_bytes(b"\x1f\x8b\x08 cut short")
    gzipped_parquet = tmp / "sales.parquet.gz"
    gzipped_parquet.write_bytes(b"\x1f\x8b")
    return {
        "missing": (tmp / "nope.csv", "file not found"),
        "directory": (tmp, "is a directory"),
        "unknown extension": (txt, "unknown file type '.json'"),
        "old excel": (xls, "an Excel 97-2003 workbook (.xls); save it as .xlsx or CSV"),
        "broken gzip": (badgz, "cannot read CSV"),
        "compressed parquet": (gzipped_parquet, "type '.parquet.gz', expected one of .csv, .tsv"),
        "empty": (empty, "file is empty"),
        "header only": (header_only, "no rows"),
        "no target": (no_target, "no 'SalePrice' column"),
        "unreadable parquet": (corrupt, "cannot read PARQUET"),
        "bad zip": (badzip, "not a valid ZIP"),
        "zip with two csvs": (twozip, "exactly one CSV, found 2"),
        "bad workbook": (badxlsx, "not a valid Excel workbook"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "directory",
        "unknown extension",
        "old excel",
        "broken gzip",
        "compressed parquet",
        "empty",
        "header only",
        "no target",
        "unreadable parquet",
        "bad zip",
        "zip with two csvs",
        "bad workbook",
    ],
)
def test_bad_files_raise_a_one_line_error_naming_the_file(case: str, tmp_path: Path) -> None:
    path, message = _bad_files(tmp_path)[case]
    with pytest.raises(DataError) as err:
        load(str(path))
    assert message in str(err.value)
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_cli_reports_bad_data_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "no_target.csv"
    bad.write_text("Gr Liv Area\n1000\n")
    proc = run_cli(["train", "--data", str(bad)], base_env(tmp_path / "pp"), timeout=120)
    assert proc.returncode == 2
    assert "no 'SalePrice' column" in proc.stderr
    assert str(bad) in proc.stderr.replace("\n", "")
    assert "Traceback" not in proc.stderr + proc.stdout
