"""Schema validation: hard rules stop training with a table, soft ones are recorded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from prices_predictor.core.errors import DataError
from prices_predictor.data.validate import require_valid, validate
from tests.conftest import AMES, base_env, run_cli


def test_bundled_data_passes_with_soft_findings(ames: pd.DataFrame) -> None:
    report = validate(ames, AMES)
    assert not report.hard
    rules = {v.rule for v in report.soft}
    assert "outlier: > 4000" in rules  # De Cock's five large houses
    garage = [v for v in report.soft if v.column == "Garage Yr Blt"]
    assert garage and garage[0].examples == [2207.0]  # the known typo is advisory


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("Gr Liv Area", -10, "range: in [0, 1000000]"),
        ("Year Built", 1700, "range: in [1800, "),
        ("Yr Sold", 3000, "range: in [1800, "),
        ("Overall Qual", 11, "range: in [1, 10]"),
        ("Overall Cond", 0, "range: in [1, 10]"),
        ("SalePrice", 0, "range: price > 0"),
        ("Lot Area", "big", "type: must be numeric"),
    ],
)
def test_hard_violations(small_ames: pd.DataFrame, column: str, value: object, rule: str) -> None:
    df = small_ames.head(20).copy()
    df[column] = df[column].astype(object)
    df.loc[3, column] = value
    report = validate(df, AMES)
    hard = [v for v in report.hard if v.column == column]
    assert hard and hard[0].rule.startswith(rule) and hard[0].count == 1
    with pytest.raises(DataError) as err:
        require_valid(report, "x.csv")
    assert "rule" in str(err.value) and column in str(err.value)


def test_a_bad_parcel_id_is_soft(small_ames: pd.DataFrame) -> None:
    df = small_ames.head(10).astype({"PID": object})
    df.loc[[1, 2, 3], "PID"] = ["0526-301-100", -4, 526301100.5]
    report = validate(df, AMES)
    assert not report.hard  # such a row is priced without the location effect
    (v,) = [v for v in report.soft if v.column == "PID"]
    assert v.count == 3 and v.rule == "type: parcel id, a whole number >= 0"


def test_missing_columns_are_soft(small_ames: pd.DataFrame) -> None:
    report = validate(small_ames.drop(columns=["Pool QC", "Fence"]).head(20), AMES)
    assert not report.hard
    assert any(v.rule.startswith("schema: column missing") for v in report.soft)


def test_cli_prints_the_violation_table(small_ames: pd.DataFrame, tmp_path: Path) -> None:
    df = small_ames.head(50).copy()
    df.loc[0, "Overall Qual"] = 42
    df.loc[1, "Gr Liv Area"] = -1
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    proc = run_cli(["train", "--data", str(path)], base_env(tmp_path / "pp"), timeout=120)
    assert proc.returncode == 2
    assert "2 hard validation rule(s) broken" in proc.stderr
    assert "Overall Qual" in proc.stderr and "Gr Liv Area" in proc.stderr
    assert "Traceback" not in proc.stderr
