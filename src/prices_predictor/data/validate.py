"""Validation of raw training rows against the declared schema."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from prices_predictor.data import schema
from prices_predictor.errors import DataError
from prices_predictor.features.location import NO_BLOCK, block_ids

MIN_YEAR = 1800


@dataclass(frozen=True)
class Violation:
    """One broken rule on one column."""

    rule: str
    column: str
    count: int
    examples: list[Any]
    hard: bool


@dataclass
class ValidationReport:
    """Every violation found; hard ones stop training."""

    rows: int
    violations: list[Violation] = field(default_factory=list)

    @property
    def hard(self) -> list[Violation]:
        return [v for v in self.violations if v.hard]

    @property
    def soft(self) -> list[Violation]:
        return [v for v in self.violations if not v.hard]

    def table(self, which: list[Violation] | None = None) -> str:
        rows = which if which is not None else self.violations
        lines = [f"{'rule':<32} {'column':<18} {'count':>6}  examples"]
        for v in rows:
            ex = ", ".join(repr(e) for e in v.examples)
            lines.append(f"{v.rule:<32} {v.column:<18} {v.count:>6}  {ex}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "violations": [
                {
                    "rule": v.rule,
                    "column": v.column,
                    "count": v.count,
                    "hard": v.hard,
                    "examples": [str(e) for e in v.examples],
                }
                for v in self.violations
            ],
        }


def _check(
    report: ValidationReport, df: pd.DataFrame, col: str, bad: pd.Series, rule: str, hard: bool
) -> None:
    n = int(bad.sum())
    if n:
        examples = df.loc[bad, col].head(3).tolist()
        report.violations.append(Violation(rule, col, n, examples, hard))


def validate(
    df: pd.DataFrame, target: str | None = "SalePrice", source: str = "data"
) -> ValidationReport:
    """Check types and ranges; returns the report (raise with :func:`require_valid`).

    ``target=None``: rows to be priced, whose price column (if any) is not checked.
    """
    report = ValidationReport(rows=len(df))
    this_year = dt.date.today().year
    targets = [target] if target is not None else []
    numeric_cols = [c for c in (*schema.NUMERIC, *targets) if c in df.columns]
    for col in numeric_cols:
        values = pd.to_numeric(df[col], errors="coerce")
        _check(report, df, col, values.isna() & df[col].notna(), "type: must be numeric", True)
    num = {c: pd.to_numeric(df[c], errors="coerce") for c in numeric_cols}
    if target in num:
        t = num[target]
        _check(report, df, target, t.isna(), "required: price missing", True)
        _check(report, df, target, t <= 0, "range: price > 0", True)
    for col in schema.AREA_COLUMNS + schema.COUNT_COLUMNS:
        if col in num:
            _check(report, df, col, num[col] < 0, "range: >= 0", True)
    for col in schema.YEAR_COLUMNS:
        if col in num:
            bad = (num[col] < MIN_YEAR) | (num[col] > this_year)
            # Ames has a known typo (Garage Yr Blt 2207): a garage year is advisory only.
            hard = col != "Garage Yr Blt"
            _check(report, df, col, bad, f"range: year in [{MIN_YEAR}, {this_year}]", hard)
    for col in schema.SCORE_COLUMNS:
        if col in num:
            _check(report, df, col, (num[col] < 1) | (num[col] > 10), "range: 1..10", True)
    if schema.LOCATION_COLUMN in df.columns:
        col = schema.LOCATION_COLUMN
        # what the location effect cannot use (its own rule); soft: such a row is priced
        # without the effect, nothing else
        bad = df[col].notna() & (block_ids(df[col], 1) == NO_BLOCK)
        _check(report, df, col, bad, "type: parcel id, a whole number >= 0", False)
    if "Year Built" in num and "Year Remod/Add" in num:
        bad = num["Year Remod/Add"] < num["Year Built"]
        _check(report, df, "Year Remod/Add", bad, "order: remodel >= built", False)
    if "Gr Liv Area" in num:
        _check(report, df, "Gr Liv Area", num["Gr Liv Area"] > 4000, "outlier: > 4000 sq ft", False)
    for col, ranks in schema.ORDINAL.items():
        if col in df.columns:
            vals = df[col]
            _check(
                report,
                df,
                col,
                vals.notna() & ~vals.isin(list(ranks)),
                "category: unknown level",
                False,
            )
    missing = [c for c in schema.FEATURES if c not in df.columns]
    if missing:
        report.violations.append(
            Violation(
                "schema: column missing (imputed)",
                ", ".join(missing[:3]),
                len(missing),
                missing[:3],
                False,
            )
        )
    if not any(c in df.columns for c in schema.FEATURES):
        report.violations.append(
            Violation(
                "schema: no known feature column",
                source,
                len(df.columns),
                list(df.columns[:3]),
                True,
            )
        )
    return report


def require_valid(report: ValidationReport, source: str) -> None:
    """Raise a :class:`DataError` listing the hard violations, if any."""
    if report.hard:
        raise DataError(
            f"{source}: {len(report.hard)} hard validation rule(s) broken:\n"
            + report.table(report.hard)
        )
