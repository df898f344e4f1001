"""Price a table of any size on Spark with the same model, checks and output as ``predict``.

Two passes over the input. The first validates every batch on the executors (the model's
spec, as ``predict`` checks a file) and brings back only the counts per rule; a hard
violation stops here, before anything is written. The second scores with ``mapInPandas``:
each Python worker loads the shipped model once and runs the pipelined encoder + kernel on
its Arrow batches; the output is a Parquet dataset (Spark's directory layout) with the key
columns and price, price_low, price_high, so it joins back to the input by key.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from prices_predictor.batch.score import PRICE_COLUMNS, BatchResult, default_keep
from prices_predictor.core.errors import DataError
from prices_predictor.data.ingest import NA_VALUES
from prices_predictor.data.validate import ValidationReport, Violation, require_valid, validate
from prices_predictor.spark import executor
from prices_predictor.spec.model import DataSpec, field_map

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

ROW_INDEX = "row"  # added when the input has no key column to keep
FINDINGS_SCHEMA = "rule string, column string, count long, hard boolean, examples string"
EXAMPLES = 3


@dataclass
class SparkResult:
    """What was scored, where, and what the user should know (as ``predict`` reports it)."""

    rows: int
    kept: list[str]
    batch: BatchResult  # the aggregated findings, in the local engine's form
    seconds: dict[str, float] = field(default_factory=dict)  # validate, score (+ write)


def read_table(spark: SparkSession, url: str) -> DataFrame:
    """Parquet (a file or a dataset directory) or CSV with a header, from any Hadoop file
    system URL; a path that does not exist is one clear error."""
    # lazy: pyspark only for the Spark engine
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import AnalysisException

    kind = "csv" if url.lower().rstrip("/").endswith(".csv") else "parquet"
    try:
        if kind == "csv":
            return (
                spark.read.option("header", True)
                .option("inferSchema", True)
                .option("nullValue", "")
                .csv(url)
            )
        return spark.read.parquet(url)
    except AnalysisException as exc:
        if "PATH_NOT_FOUND" in str(exc):
            raise DataError(f"{url}: file not found") from None
        raise DataError(f"{url}: cannot read {kind}: {_first_line(exc)}") from None
    except Py4JJavaError as exc:  # e.g. not a Parquet file (footer unreadable)
        raise DataError(f"{url}: cannot read {kind}: {_java_cause(exc)}") from None


def score_table(
    spark: SparkSession,
    model_name: str,
    spec: DataSpec,
    data: str,
    out: str,
    keep: Sequence[str] | None = None,
) -> SparkResult:
    """Validate and score ``data`` with the shipped model ``model_name``; write ``out``."""
    t0 = time.perf_counter()
    df = _spec_names(read_table(spark, data), spec, data)
    kept = default_keep_columns(df.columns, spec) if keep is None else list(keep)
    for c in kept:
        if c not in df.columns:
            raise DataError(f"{data}: no column '{c}' to keep")
        if c in PRICE_COLUMNS:
            raise DataError(f"{data}: cannot keep '{c}': the output has its own '{c}' column")
    batch = _validate(df, model_name, spec, data)
    t1 = time.perf_counter()
    if not kept:
        df, kept = with_row_index(df), [ROW_INDEX]
    fields = {f.name: f for f in df.schema.fields}
    schema = _output_schema([fields[c] for c in kept])
    scored = df.mapInPandas(partial(_score_batches, model_name, tuple(kept)), schema)
    _run(lambda: scored.write.mode("overwrite").parquet(out), out)
    return SparkResult(
        rows=batch.rows,
        kept=kept,
        batch=batch,
        seconds={"validate": t1 - t0, "score_and_write": time.perf_counter() - t1},
    )


def default_keep_columns(columns: Sequence[str], spec: DataSpec) -> list[str]:
    return default_keep(pd.DataFrame(columns=list(columns)), spec)


def with_row_index(df: DataFrame) -> DataFrame:
    """A 0-based row number in the order Spark reads the input (a file's own order): each
    partition's rows are numbered from the count of the partitions before it."""
    from pyspark.sql import functions as F  # lazy: pyspark only for the Spark engine

    part = df.withColumn("_pp_part", F.spark_partition_id())
    counts: dict[int, int] = {int(p): int(n) for p, n in part.groupBy("_pp_part").count().collect()}
    offsets, total = {}, 0
    for p in sorted(counts):
        offsets[p], total = total, total + counts[p]
    return df.mapInPandas(partial(_number_rows, offsets), _with_row_schema(df))


def _with_row_schema(df: DataFrame) -> Any:
    from pyspark.sql.types import LongType, StructField, StructType  # lazy: pyspark

    return StructType([StructField(ROW_INDEX, LongType(), False), *df.schema.fields])


def _number_rows(
    offsets: dict[int, int], batches: Iterator[pd.DataFrame]
) -> Iterator[pd.DataFrame]:
    from pyspark import TaskContext  # lazy: on executors

    ctx = TaskContext.get()
    start = offsets.get(ctx.partitionId(), 0) if ctx is not None else 0
    for pdf in batches:
        pdf.insert(0, ROW_INDEX, np.arange(start, start + len(pdf), dtype=np.int64))
        start += len(pdf)
        yield pdf


def _spec_names(df: DataFrame, spec: DataSpec, data: str) -> DataFrame:
    """snake_case API names -> the spec's column names; at least one model input present."""
    names = field_map(spec)
    renames = {c: names[c] for c in df.columns if c in names and names[c] != c}
    both = [c for c, orig in renames.items() if orig in df.columns]
    if both:
        raise DataError(f"{data}: column '{both[0]}' and '{renames[both[0]]}' are the same feature")
    for old, new in renames.items():
        df = df.withColumnRenamed(old, new)
    inputs = set(spec.inputs())
    if not inputs.intersection(df.columns):
        example = ", ".join(spec.inputs()[:3])
        raise DataError(
            f"{data}: none of its {len(df.columns)} columns is an input of the model "
            f"(expected e.g. {example})"
        )
    return df


def _validate(df: DataFrame, model_name: str, spec: DataSpec, data: str) -> BatchResult:
    """Every row checked on the executors; counts per rule (and the imputed and
    out-of-range counts ``predict`` reports) summed on the driver."""
    inputs = [c for c in spec.inputs() if c in df.columns]
    found = df.select(*[f"`{c}`" for c in inputs]).mapInPandas(
        partial(_check_batches, model_name, data), FINDINGS_SCHEMA
    )
    rows = _run(lambda: found.collect(), data)
    report = ValidationReport(rows=0)
    merged: dict[tuple[str, str, bool], tuple[int, list[str]]] = {}
    key_missing: dict[str, int] = {}
    out_of_range: dict[str, int] = {}
    for r in rows:
        if r["rule"] == "_rows":
            report.rows += int(r["count"])
        elif r["rule"] == "_key_missing":
            key_missing[r["column"]] = key_missing.get(r["column"], 0) + int(r["count"])
        elif r["rule"] == "_out_of_range":
            out_of_range[r["column"]] = out_of_range.get(r["column"], 0) + int(r["count"])
        else:
            key = (r["rule"], r["column"], bool(r["hard"]))
            count, examples = merged.get(key, (0, []))
            new = [e for e in (r["examples"] or "").split("\x1f") if e]
            # a missing column is counted once, not once per batch
            count = (
                max(count, r["count"]) if r["rule"].startswith("schema:") else count + r["count"]
            )
            merged[key] = (int(count), (examples + new)[:EXAMPLES])
    for (rule, column, hard), (count, examples) in merged.items():
        report.violations.append(Violation(rule, column, count, examples, hard))
    require_valid(report, data)
    return BatchResult(
        rows=report.rows,
        kept=[],
        ignored=[c for c in df.columns if c not in set(inputs)],
        report=report,
        key_missing=key_missing,
        out_of_range=out_of_range,
    )


def _check_batches(
    model_name: str, source: str, batches: Iterator[pd.DataFrame]
) -> Iterator[pd.DataFrame]:
    model = executor.model(model_name)
    spec = model.spec
    for pdf in batches:
        pdf = typed(pdf, spec)
        report = validate(pdf, spec, target=False, training=False, source=source)
        out = [("_rows", "", len(pdf), False, "")]
        out += [
            (v.rule, v.column, v.count, v.hard, "\x1f".join(str(e) for e in v.examples[:EXAMPLES]))
            for v in report.violations
        ]
        out += [
            ("_key_missing", c, n, False, "")
            for c, n in model.encoder.missing_counts(pdf, spec.key_features).items()
        ]
        out += [
            ("_out_of_range", c, n, False, "")
            for c, n in model.encoder.out_of_range_counts(pdf).items()
        ]
        yield pd.DataFrame(out, columns=["rule", "column", "count", "hard", "examples"])


def _score_batches(
    model_name: str, kept: tuple[str, ...], batches: Iterator[pd.DataFrame]
) -> Iterator[pd.DataFrame]:
    model = executor.model(model_name)
    for pdf in batches:
        pdf = typed(pdf, model.spec)
        log_price = model.predict_log(pdf)
        low, high = model.price_range(log_price)
        out = pd.DataFrame({c: pdf[c].to_numpy() for c in kept})
        for name, values in zip(PRICE_COLUMNS, (np.expm1(log_price), low, high), strict=True):
            out[name] = values
        yield out


def typed(pdf: pd.DataFrame, spec: DataSpec) -> pd.DataFrame:
    """Text that CSV type inference left in a numeric feature (``NA``, ``n/a``): missing, as
    the local reader treats it; anything else stays text for validation to report."""
    numeric = {f.name for f in spec.features if f.kind in ("numeric", "date")}
    for c in pdf.columns:
        if c in numeric and pdf[c].dtype == object:
            col = pdf[c].where(~pdf[c].isin(NA_VALUES))
            parsed = pd.to_numeric(col, errors="coerce")
            if parsed.notna().sum() == col.notna().sum():
                pdf[c] = parsed
    return pdf


def _output_schema(kept: list[Any]) -> Any:
    from pyspark.sql.types import DoubleType, StructField, StructType  # lazy: pyspark

    return StructType(
        [
            *[StructField(f.name, f.dataType, f.nullable) for f in kept],
            *[StructField(c, DoubleType(), False) for c in PRICE_COLUMNS],
        ]
    )


def _run(action: Any, what: str) -> Any:
    """A Spark action; a failure inside it is a DataError naming ``what`` and its cause."""
    # lazy: pyspark only for the Spark engine
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        return action()
    except PySparkException as exc:
        text = str(exc)
        # a Python error on an executor: the last line of its traceback says what it was
        last = [ln for ln in text.splitlines() if ln.strip()][-1:] or [text]
        raise DataError(f"{what}: Spark job failed: {last[0].strip()}") from None
    except Py4JJavaError as exc:
        raise DataError(f"{what}: Spark job failed: {_java_cause(exc)}") from None


def _java_cause(exc: Any) -> str:
    try:
        cause = exc.java_exception
        while cause.getCause() is not None:
            cause = cause.getCause()
        return str(cause.getMessage()).splitlines()[0]
    except Exception:  # the JVM is gone: the Python side's text is all there is
        return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
