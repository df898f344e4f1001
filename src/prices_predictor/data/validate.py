"""Validation of raw rows against the data spec: types, ranges, levels, relations, columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from prices_predictor.core.errors import DataError
from prices_predictor.features.location import NO_BLOCK, block_ids
from prices_predictor.features.values import cat_value, dates
from prices_predictor.spec.model import DataSpec


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
    df: pd.DataFrame,
    spec: DataSpec,
    *,
    target: bool = True,
    training: bool = True,
    source: str = "data",
) -> ValidationReport:
    """Check the rows against the spec; returns the report (raise with :func:`require_valid`).

    ``target=False``: rows to be priced, whose price column (if any) is not checked.
    ``training``: a feature column the data lacks is an error when the spec says so
    (``missing_columns: error``); rows to be priced always get it imputed.
    """
    report = ValidationReport(rows=len(df))
    num: dict[str, pd.Series] = {}
    for f in spec.features:
        if f.kind in ("numeric", "date") and f.name in df.columns:
            num[f.name] = _numbers(report, df, f.name, f.kind, not f.coerce, spec.dayfirst)
    if target:
        _check_target(report, df, spec.target.column)
    for f in spec.features:
        if f.name in num and f.range is not None:
            lo, hi = f.range.bounds()
            v = num[f.name]
            bad = (v < lo if lo is not None else False) | (v > hi if hi is not None else False)
            _check(
                report,
                df,
                f.name,
                pd.Series(bad, index=df.index),
                _range_rule(lo, hi),
                f.range.hard,
            )
        if f.kind == "ordinal" and f.name in df.columns:
            vals = df[f.name].map(cat_value, na_action="ignore")
            known = vals.notna() & ~vals.isin(list(f.ranks()))
            _check(report, df, f.name, known, "category: unknown level", False)
    _check_location(report, df, spec)
    for r in spec.relations:
        if r.column in num and r.other in num:
            a, b = num[r.column], num[r.other]
            ok = {">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b}[r.op]
            bad = ~ok & a.notna() & b.notna()
            _check(report, df, r.column, bad, f"order: {r.column} {r.op} {r.other}", r.hard)
    for o in spec.outliers:
        if o.column in num:
            v = num[o.column]
            bad = (v > o.max if o.max is not None else False) | (
                v < o.min if o.min is not None else False
            )
            rule = "outlier: " + (
                f"> {_num(o.max)}" if o.min is None else f"outside {_range_rule(o.min, o.max)}"
            )
            _check(report, df, o.column, pd.Series(bad, index=df.index), rule, False)
    _check_columns(report, df, spec, training, source)
    return report


def _numbers(
    report: ValidationReport, df: pd.DataFrame, col: str, kind: str, hard: bool, dayfirst: bool
) -> pd.Series:
    """A numeric or date column as numbers (dates as decimal years); unparseable cells are a
    type violation (soft for a feature declared ``coerce``: they count as missing)."""
    if kind == "date":
        values = pd.Series(dates(df[col].to_numpy(), len(df), dayfirst), index=df.index)
        rule = "type: must be a date"
    else:
        values = pd.to_numeric(df[col], errors="coerce")
        rule = "type: must be numeric"
    if not hard:
        rule = rule.replace("must be", "not") + " (read as missing)"
    _check(report, df, col, values.isna() & df[col].notna(), rule, hard)
    return values


def _check_target(report: ValidationReport, df: pd.DataFrame, target: str) -> None:
    if target not in df.columns:
        return
    t = pd.to_numeric(df[target], errors="coerce")
    _check(report, df, target, t.isna() & df[target].notna(), "type: must be numeric", True)
    _check(report, df, target, t.isna() & df[target].isna(), "required: price missing", True)
    _check(report, df, target, t <= 0, "range: price > 0", True)


def _check_location(report: ValidationReport, df: pd.DataFrame, spec: DataSpec) -> None:
    """What the location effect cannot use, by its own rule; soft: such a row is priced
    without the effect, nothing else."""
    loc = spec.location
    if loc is None:
        return
    if loc.kind == "block":
        col = loc.column
        if col in df.columns:
            bad = df[col].notna() & (block_ids(df[col], 1) == NO_BLOCK)
            _check(report, df, col, bad, "type: parcel id, a whole number >= 0", False)
        return
    for col, limit in ((loc.latitude, 90), (loc.longitude, 180)):
        if col in df.columns:
            v = pd.to_numeric(df[col], errors="coerce")
            bad = df[col].notna() & ~(v.abs() <= limit)
            _check(report, df, col, bad, f"range: coordinate in [-{limit}, {limit}]", False)


def _check_columns(
    report: ValidationReport, df: pd.DataFrame, spec: DataSpec, training: bool, source: str
) -> None:
    names = spec.names()
    missing = [c for c in names if c not in df.columns]
    if missing:
        hard = training and spec.missing_columns == "error"
        rule = "schema: column missing" + ("" if hard else " (imputed)")
        report.violations.append(
            Violation(rule, ", ".join(missing[:3]), len(missing), missing[:3], hard)
        )
    if not any(c in df.columns for c in names):
        report.violations.append(
            Violation(
                "schema: no known feature column",
                source,
                len(df.columns),
                list(df.columns[:3]),
                True,
            )
        )


def _range_rule(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"range: in [{_num(lo)}, {_num(hi)}]"
    return f"range: >= {_num(lo)}" if lo is not None else f"range: <= {_num(hi)}"


def _num(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def require_valid(report: ValidationReport, source: str) -> None:
    """Raise a :class:`DataError` listing the hard violations, if any."""
    if report.hard:
        raise DataError(
            f"{source}: {len(report.hard)} hard validation rule(s) broken:\n"
            + report.table(report.hard)
        )
