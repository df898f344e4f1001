"""Score a file of houses: CSV, Parquet, ZIP or Excel workbook in; CSV or Parquet out, one
row per input row.

The rows go through the same checks as training data (the model's spec: types and ranges; a
hard violation stops before anything is written) and the same pipelined encoder + kernel as
the API's batches, so a million rows take seconds. Columns may use the spec's names
(``Gr Liv Area``) or the API's snake_case names (``gr_liv_area``).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from prices_predictor.core.errors import DataError
from prices_predictor.data.ingest import COMPRESSIONS, file_type, source_for
from prices_predictor.data.validate import ValidationReport, require_valid, validate
from prices_predictor.models.price_model import PriceModel
from prices_predictor.spec.infer import idlike_name
from prices_predictor.spec.model import DataSpec, field_map

OUTPUT_SUFFIXES = (".csv", ".parquet", ".xlsx", *(".csv" + c for c in COMPRESSIONS))
EXCEL_ROWS = 1_048_575  # a sheet's rows below its header
PRICE_COLUMNS = ("price", "price_low", "price_high")


@dataclass
class BatchResult:
    """What was scored and what the user should know about it."""

    rows: int
    kept: list[str]
    ignored: list[str]  # columns that are neither features nor kept
    report: ValidationReport  # soft violations only (hard ones raise)
    key_missing: dict[str, int] = field(default_factory=dict)  # key feature -> rows imputed
    out_of_range: dict[str, int] = field(default_factory=dict)  # feature -> rows outside
    seconds: dict[str, float] = field(default_factory=dict)  # read, prepare, score, write

    def warnings(self) -> list[str]:
        """What the user should know about the rows, one sentence each (``predict`` prints
        them, a job reports them as its findings)."""
        out = []
        for v in self.report.soft:
            if v.rule.startswith("schema:"):  # counts columns, not rows
                out.append(
                    f"{v.count} feature columns absent (e.g. {v.column}): imputed in every row"
                )
            else:
                out.append(f"{v.column}: {v.rule} ({_rows(v.count)})")
        out += [f"{col} missing in {_rows(n)}: imputed" for col, n in self.key_missing.items()]
        out += [
            f"{col} outside the training range in {_rows(n)}: "
            "priced as the nearest houses the model has seen"
            for col, n in self.out_of_range.items()
        ]
        return out


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def check_output(out: Path) -> None:
    """Fail before any work if ``out`` cannot be written."""
    kind = file_type(out)
    if kind not in OUTPUT_SUFFIXES:
        raise DataError(
            f"{out}: unknown output type '{kind or '(none)'}', "
            f"expected one of {', '.join(OUTPUT_SUFFIXES)}"
        )
    if not out.parent.is_dir():
        raise DataError(f"{out}: directory {out.parent} does not exist")
    if out.is_dir():
        raise DataError(f"{out}: is a directory")


def read_houses(data: str, spec: DataSpec) -> pd.DataFrame:
    """Read ``data`` with the ingestion strategies; the API's snake_case names become the
    spec's column names. Text columns are read as categoricals (each distinct value parsed
    once; the encoder then works on their codes)."""
    src = source_for(data)
    # a model trained before the reader dropped the spaces around header names has them in
    # its spec: the file's names, read without them, still find its columns
    spaced = {c.strip(): c for c in spec.inputs() if c != c.strip()}
    names = {**spaced, **field_map(spec)}
    text = {*spec.categorical, *(a for a, c in names.items() if c in set(spec.categorical))}
    df = src.read(text)
    renames = {c: names[c] for c in df.columns if c in names and names[c] != c}
    both = [c for c, orig in renames.items() if orig in df.columns]
    if both:
        raise DataError(
            f"{src.name}: column '{both[0]}' and '{renames[both[0]]}' are the same feature"
        )
    return df.rename(columns=renames)


def score_file(
    model: PriceModel,
    data: str,
    out: Path,
    keep: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Score every row of ``data`` and write ``keep`` columns + price, price_low, price_high.

    ``keep`` defaults to the id columns present (the spec's id and columns named like an id
    or a row number, e.g. Ames' ``Order`` and ``PID``). The output appears whole or not at
    all (written to a temporary file, then renamed). ``progress(rows_done, rows_total)`` is
    called once the rows are read and valid, then as slices are scored; an exception it raises
    abandons the file with nothing written.
    """
    check_output(out)
    if out.exists() and Path(data).exists() and out.samefile(data):
        raise DataError(f"{out}: is the input file; write the prices elsewhere")
    t0 = time.perf_counter()
    spec = model.spec
    df = read_houses(data, spec)
    kept = default_keep(df, spec) if keep is None else list(keep)
    source = keep_sources(list(df.columns), kept, spec, data)
    report = validate(df, spec, target=False, training=False, source=data)
    require_valid(report, data)
    n = len(df)
    if progress is not None:
        progress(0, n)
    t1 = time.perf_counter()
    # load (or compile) the kernels first, not in the scoring time
    model.warm_kernels()
    t2 = time.perf_counter()
    log_price = model.predict_log(df, None if progress is None else lambda k: progress(k, n))
    low, high = model.price_range(log_price)
    t3 = time.perf_counter()
    result = pd.DataFrame({c: df[source[c]].to_numpy() for c in kept})
    for name, values in zip(PRICE_COLUMNS, (np.expm1(log_price), low, high), strict=True):
        result[name] = values
    write_table(result, out)
    features = set(spec.inputs())
    return BatchResult(
        rows=len(df),
        kept=kept,
        ignored=[c for c in df.columns if c not in features and c not in source.values()],
        report=report,
        key_missing=model.encoder.missing_counts(df, spec.key_features),
        out_of_range=model.encoder.out_of_range_counts(df),
        seconds={
            "read": t1 - t0,
            "prepare": t2 - t1,
            "score": t3 - t2,
            "write": time.perf_counter() - t3,
        },
    )


def keep_sources(
    columns: Sequence[str], kept: Sequence[str], spec: DataSpec, data: str
) -> dict[str, str]:
    """Output name -> input column of each kept column: one may have been renamed on
    reading (pid -> PID) and is output as asked. A missing or price-named one is an error."""
    names = field_map(spec)
    source = {c: c if c in columns else names.get(c, c) for c in kept}
    for c in kept:
        if source[c] not in columns:
            raise DataError(f"{data}: no column '{c}' to keep")
        if c in PRICE_COLUMNS:
            raise DataError(f"{data}: cannot keep '{c}': the output has its own '{c}' column")
    return source


def default_keep(df: pd.DataFrame, spec: DataSpec) -> list[str]:
    return [c for c in map(str, df.columns) if c == spec.id or idlike_name(c)]


def write_table(frame: pd.DataFrame, out: Path) -> None:
    """Write ``frame`` whole or not at all (a temporary file, then renamed), as CSV (plain or
    compressed), Parquet or Excel by the extension."""
    kind = file_type(out)
    if kind == ".xlsx" and len(frame) > EXCEL_ROWS:
        raise DataError(
            f"{out}: {len(frame):,} rows do not fit an Excel sheet ({EXCEL_ROWS:,} at most); "
            "write .csv or .parquet"
        )
    # a fresh name, not mkstemp: the file gets the user's usual permissions (umask), not 0600
    tmp = out.parent / f".{out.name}.{uuid.uuid4().hex}.tmp{kind}"
    try:
        if kind.startswith(".csv"):  # compressed by the suffix the temporary name keeps
            frame.to_csv(tmp, index=False, float_format="%.2f")
        elif kind == ".xlsx":
            frame.round({c: 2 for c in PRICE_COLUMNS if c in frame}).to_excel(
                tmp, index=False, engine="openpyxl"
            )
        else:
            frame.to_parquet(tmp, index=False)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
