"""`predict --engine spark` and `prices_predictor.spark.price_udf` on Spark local[2]: the same
prices as the local engine (joined by key), MLflow's own spark_udf agreeing, bad input as one
line and exit 2. Spark starts a JVM (~10-20 s here): these run in `make test-slow`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import base_env, private_home, run_cli

pytest.importorskip("pyspark", reason="the spark extra is installed by make install")
pytestmark = [pytest.mark.slow, pytest.mark.long]
REL = 1e-9  # the bound; the two engines run the same float64 operations
SPARK = ["--engine", "spark", "--master", "local[2]"]


def _parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Row groups of 100,000 rows: Spark splits a Parquet file only between row groups."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=100_000)
    return path


@pytest.fixture(scope="module")
def two_million(ames: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000,000 houses resampled from Ames, each with a unique ``key``."""
    rows = ames.drop(columns=["SalePrice"]).sample(2_000_000, replace=True, random_state=0)
    rows = rows.reset_index(drop=True)
    rows.insert(0, "key", np.arange(len(rows), dtype=np.int64) * 7 + 3)
    return _parquet(rows, tmp_path_factory.mktemp("spark-data") / "houses.parquet")


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from prices_predictor.spark.session import get_session

    base = tmp_path_factory.mktemp("spark")
    session = get_session("local[2]", base / "scratch", base / "numba-cache")
    try:
        yield session
    finally:
        session.stop()


def _close(got: pd.Series, want: pd.Series) -> None:
    rel = np.abs(got.to_numpy() - want.to_numpy()) / np.abs(want.to_numpy())
    assert rel.max() <= REL, rel.max()


def test_two_million_rows_are_priced_as_predict_prices_them(
    bundle_dir: Path, two_million: Path, tmp_path: Path
) -> None:
    env = base_env(tmp_path / "pp", PP_MODEL_URI=str(bundle_dir))
    out = tmp_path / "spark-prices"
    proc = run_cli(
        ["predict", *SPARK, "--data", str(two_million), "--out", str(out), "--keep", "key"],
        env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "priced 2,000,000 rows" in proc.stdout and "on Spark local[2]" in proc.stdout
    assert (out / "_SUCCESS").exists() and list(out.glob("part-*.parquet"))
    # findings are aggregated over every row, in the local engine's words
    local_out = tmp_path / "local.parquet"
    local = run_cli(
        ["predict", "--data", str(two_million), "--out", str(local_out), "--keep", "key"],
        env,
        timeout=900,
    )
    assert local.returncode == 0, local.stderr
    assert _warnings(proc.stderr) == _warnings(local.stderr)
    got = pd.read_parquet(out)
    want = pd.read_parquet(local_out)
    assert list(got.columns) == ["key", "price", "price_low", "price_high"]
    assert len(got) == len(want) == 2_000_000 and got["key"].is_unique
    joined = want.merge(got, on="key", suffixes=("", "_spark"), validate="one_to_one")
    assert len(joined) == 2_000_000
    for c in ("price", "price_low", "price_high"):
        _close(joined[f"{c}_spark"], joined[c])


def _warnings(stderr: str) -> list[str]:
    return sorted(
        " ".join(line.split()) for line in stderr.splitlines() if line.startswith("warning:")
    )


def test_without_a_key_column_rows_are_numbered_in_file_order(
    bundle_dir: Path, ames: pd.DataFrame, tmp_path: Path
) -> None:
    rows = ames.drop(columns=["SalePrice", "Order", "PID"]).sample(
        250_000, replace=True, random_state=1
    )
    data = _parquet(rows.reset_index(drop=True), tmp_path / "nokey.parquet")
    env = base_env(tmp_path / "pp", PP_MODEL_URI=str(bundle_dir))
    out, local_out = tmp_path / "out", tmp_path / "local.parquet"
    proc = run_cli(["predict", *SPARK, "--data", str(data), "--out", str(out)], env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "kept row" in proc.stdout
    run_cli(["predict", "--data", str(data), "--out", str(local_out)], env, check=True)
    got = pd.read_parquet(out).sort_values("row").reset_index(drop=True)
    want = pd.read_parquet(local_out)
    assert got["row"].tolist() == list(range(len(rows)))  # the row's position in the file
    for c in ("price", "price_low", "price_high"):
        _close(got[c], want[c])


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "file not found"),
        ("no_inputs", "none of its 2 columns is an input of the model"),
        ("hard", "1 hard validation rule(s) broken"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    bundle_dir: Path, ames: pd.DataFrame, tmp_path: Path, case: str, message: str
) -> None:
    data = tmp_path / "in.parquet"
    if case == "no_inputs":
        _parquet(pd.DataFrame({"city": ["Paris"] * 10, "colour": ["blue"] * 10}), data)
    if case == "hard":
        bad = ames.drop(columns=["SalePrice"]).copy()
        bad.loc[[10, 2000], "Overall Qual"] = [12, 0]
        _parquet(bad, data)
    env = base_env(tmp_path / "pp", PP_MODEL_URI=str(bundle_dir))
    out = tmp_path / "out"
    proc = run_cli(["predict", *SPARK, "--data", str(data), "--out", str(out)], env, timeout=600)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and message in proc.stderr
    assert proc.stderr.startswith("error:")
    if case == "hard":  # the table names the rule, the column and the examples
        assert "range: in [1, 10]" in proc.stderr and "Overall Qual" in proc.stderr
    assert not out.exists()  # nothing written


def test_price_udf_gives_the_local_prices(
    spark: object, bundle_dir: Path, ames: pd.DataFrame
) -> None:
    from prices_predictor.spark import price_udf
    from prices_predictor.spec.names import api_name
    from prices_predictor.tracking.bundle import load_bundle

    rows = ames.drop(columns=["SalePrice"]).head(3000).rename(columns=api_name)
    df = spark.createDataFrame(rows)  # type: ignore[attr-defined]
    price = price_udf(spark, str(bundle_dir))  # type: ignore[arg-type]
    got = df.withColumn("p", price(*df.columns)).select("pid", "p.*").toPandas()
    model, _ = load_bundle(bundle_dir)
    log_price = model.predict_log(ames.head(3000))
    low, high = model.price_range(log_price)
    assert got["pid"].tolist() == ames["PID"].head(3000).tolist()
    _close(got["price"], pd.Series(np.expm1(log_price)))
    _close(got["price_low"], pd.Series(low))
    _close(got["price_high"], pd.Series(high))


def test_mlflow_spark_udf_on_the_registered_model_agrees(
    spark: object,
    trained_home: dict[str, str],
    ames: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Users try MLflow's own UDF first: on our registered version it gives our prices."""
    import mlflow
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, LongType, StringType

    from prices_predictor.core.settings import get_settings
    from prices_predictor.spark import price_udf

    env = private_home(trained_home, tmp_path / "pp", "serving")
    monkeypatch.setenv("PP_HOME", env["PP_HOME"])
    get_settings.cache_clear()
    mlflow.set_tracking_uri(f"sqlite:///{env['PP_HOME']}/mlflow.db")
    mlflow.set_registry_uri(f"sqlite:///{env['PP_HOME']}/mlflow.db")
    theirs = mlflow.pyfunc.spark_udf(
        spark, "models:/prices_predictor/1", env_manager="local", result_type="double"
    )
    schema = theirs.metadata.get_input_schema()
    df = spark.createDataFrame(ames.drop(columns=["SalePrice"]))  # type: ignore[attr-defined]
    kinds = {"long": LongType(), "double": DoubleType(), "string": StringType()}
    cols = [
        F.col(f"`{c.name}`").cast(kinds[c.type.name]).alias(c.name)
        for c in schema.inputs
        if c.name in df.columns
    ]
    ours = price_udf(spark, "models:/prices_predictor/1")  # type: ignore[arg-type]
    got = df.select(
        "PID", theirs(F.struct(*cols)).alias("mlflow"), ours(*df.columns).price.alias("ours")
    ).toPandas()
    assert len(got) == len(ames) and got["mlflow"].notna().all()
    _close(got["mlflow"], got["ours"])


@pytest.mark.parametrize("dialect", ["comma", "semicolon-cp1252", "tab-gzip"])
def test_a_csv_with_snake_case_names_and_na_text_is_priced_as_predict_prices_it(
    bundle_dir: Path, ames: pd.DataFrame, tmp_path: Path, dialect: str
) -> None:
    from prices_predictor.spec.names import api_name

    rows = ames.drop(columns=["SalePrice"]).head(2000).rename(columns=api_name)
    data = tmp_path / ("houses.tsv.gz" if dialect == "tab-gzip" else "houses.csv")
    # "NA" for a missing number: Spark's CSV inference keeps such a column as text
    if dialect == "comma":
        rows.to_csv(data, index=False, na_rep="NA")
    elif dialect == "tab-gzip":  # compressed by its name's suffix, as large exports ship
        rows.to_csv(data, index=False, na_rep="NA", sep="\t")
    else:  # as Excel on Windows saves "CSV (semicolon)", with a column the model ignores
        # and a header name with spaces around it, as spreadsheets export them
        rows = rows.assign(Straße="Königsallee").rename(columns={"gr_liv_area": " gr_liv_area "})
        rows.to_csv(data, index=False, na_rep="NA", sep=";", encoding="cp1252")
    env = base_env(tmp_path / "pp", PP_MODEL_URI=str(bundle_dir))
    out, local_out = tmp_path / "out", tmp_path / "local.parquet"
    args = ["--data", str(data), "--keep", "pid"]
    proc = run_cli(["predict", *SPARK, *args, "--out", str(out)], env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    local = run_cli(["predict", *args, "--out", str(local_out)], env, check=True)
    assert _warnings(proc.stderr) == _warnings(local.stderr)
    got = pd.read_parquet(out)
    want = pd.read_parquet(local_out)
    assert list(got.columns) == list(want.columns) == ["pid", "price", "price_low", "price_high"]
    joined = want.merge(got, on="pid", suffixes=("", "_spark"), validate="one_to_one")
    assert len(joined) == len(rows)
    for c in ("price", "price_low", "price_high"):
        _close(joined[f"{c}_spark"], joined[c])
