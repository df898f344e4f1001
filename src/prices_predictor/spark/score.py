"""Price a table of any size on Spark with the same model, checks and output as ``predict``.

One pass over the input: on the executors each Arrow batch is checked against the model's
spec (as ``predict`` checks a file) and scored by the pipelined encoder + kernel of the
shipped model, loaded once per Python worker. The pass yields the prices and, beside them,
the counts per broken rule; its output is cached, the counts are summed on the driver, and
only when no hard rule is broken are the prices written: a Parquet dataset (Spark's
directory layout) with the key columns and price, price_low, price_high, so it joins back
to the input by key.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from prices_predictor.batch.score import PRICE_COLUMNS, BatchResult, default_keep, keep_sources
from prices_predictor.core.errors import DataError
from prices_predictor.data.ingest import (
    CsvDialect,
    CsvSource,
    ExcelSource,
    csv_options,
    na_marked,
    trimmed,
)
from prices_predictor.data.validate import ValidationReport, Violation, require_valid, validate
from prices_predictor.spark import executor
from prices_predictor.spec.model import DataSpec, field_map

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

ROW_INDEX = "row"  # added when the input has no key column to keep
# the findings of a batch travel as rows of the pass' output, in columns of their own
FINDINGS = ("_pp_rule", "_pp_column", "_pp_count", "_pp_hard", "_pp_examples")
FINDING = FINDINGS[0]
EXAMPLES = 3
SEP = "\x1f"  # between a finding's examples
JAVA_CHARSETS = {"utf-8": "UTF-8", "latin-1": "ISO-8859-1"}


@dataclass
class SparkResult:
    """What was scored, where, and what the user should know (as ``predict`` reports it)."""

    rows: int
    kept: list[str]
    batch: BatchResult  # the aggregated findings, in the local engine's form
    seconds: dict[str, float] = field(default_factory=dict)  # check_and_score, write


def is_csv(url: str) -> bool:
    """Delimited text, plain or compressed (Hadoop's codecs decompress ``.gz`` and ``.bz2``)."""
    return url.lower().rstrip("/").endswith(CsvSource.suffixes)


def read_table(spark: SparkSession, url: str, text: Sequence[str] = ()) -> DataFrame:
    """Parquet (a file or a dataset directory) or CSV with a header, from any Hadoop file
    system URL; a path that does not exist is one clear error. CSV columns are typed as
    Spark infers them, except ``text`` ones (categories, dates), kept as written, as the
    local reader keeps them."""
    # lazy: pyspark only for the Spark engine
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import AnalysisException, IllegalArgumentException
    from pyspark.sql.types import StringType, StructField, StructType

    if url.lower().rstrip("/").endswith(ExcelSource.suffixes):
        raise DataError(
            f"{url}: Excel workbooks are read by the local engine only (--engine local); "
            "save the sheet as CSV or Parquet for Spark"
        )
    if url.lower().rstrip("/").endswith(".xz"):
        raise DataError(
            f"{url}: xz-compressed files are read by the local engine only (--engine local); "
            "compress it with gzip or bzip2 for Spark"
        )
    kind = "csv" if is_csv(url) else "parquet"
    try:
        if kind == "parquet":
            return spark.read.parquet(url)
        dialect = _csv_dialect(url)
        reader = (
            spark.read.option("header", True)
            .option("nullValue", "")
            .option("sep", dialect.sep)
            .option("encoding", JAVA_CHARSETS[dialect.encoding])
        )
        inferred = reader.option("inferSchema", True).csv(url).schema
        keep_text = set(text)
        schema = StructType(
            [
                StructField(f.name, StringType(), True) if f.name in keep_text else f
                for f in inferred.fields
            ]
        )
        return reader.schema(schema).csv(url)
    except AnalysisException as exc:
        if "PATH_NOT_FOUND" in str(exc):
            raise DataError(f"{url}: file not found") from None
        raise DataError(f"{url}: cannot read {kind}: {_first_line(exc)}") from None
    except Py4JJavaError as exc:  # e.g. not a Parquet file (footer unreadable)
        raise DataError(f"{url}: cannot read {kind}: {_java_cause(exc)}") from None
    except IllegalArgumentException as exc:  # an option Spark refuses for this file
        raise DataError(f"{url}: cannot read {kind}: {_first_line(exc)}") from None


def _csv_dialect(url: str) -> CsvDialect:
    """A local CSV file's separator and encoding as the local engine reads them (comma and
    UTF-8 for a directory or a remote file system). Spark parses decimal points only and
    reads UTF-8 or ISO-8859-1, not Windows-1252: a file that needs either stops with a clear
    error (Windows-1252 without its own characters, 0x80-0x9F, is ISO-8859-1)."""
    path = Path(url[len("file://") :] if url.startswith("file://") else url)
    if ("://" in url and not url.startswith("file://")) or not path.is_file():
        return CsvDialect()
    head = CsvSource(path).head()
    options = csv_options(head)
    if options.skip:
        raise DataError(
            f"{url}: {options.skip} lines above the header (a title); the Spark engine reads "
            "the header from the first line: use the local engine (--engine local) or remove "
            "them"
        )
    if options.encoding == "cp1252":
        if any(0x80 <= b <= 0x9F for b in head):
            raise DataError(
                f"{url}: encoded as Windows-1252 (e.g. '€'); the Spark engine reads UTF-8 "
                "and ISO-8859-1 only: use the local engine (--engine local) or save the file "
                "as UTF-8"
            )
        options = options._replace(encoding="latin-1")
    if options.decimal != ".":
        raise DataError(
            f"{url}: numbers are written with decimal commas (1.234,5); the Spark engine "
            "reads decimal points only: use the local engine (--engine local) or convert "
            "the file"
        )
    return options


def score_table(
    spark: SparkSession,
    model_name: str,
    spec: DataSpec,
    data: str,
    out: str,
    keep: Sequence[str] | None = None,
) -> SparkResult:
    """Check and score ``data`` with the shipped model ``model_name``; write ``out``."""
    from pyspark.sql import functions as F  # lazy: pyspark only for the Spark engine

    t0 = time.perf_counter()
    names = field_map(spec)
    text = {f.name for f in spec.features if f.kind != "numeric"}
    text |= {api for api, col in names.items() if col in text}
    df = _spec_names(read_table(spark, data, sorted(text)), spec, data)
    asked = default_keep_columns(df.columns, spec) if keep is None else list(keep)
    source = keep_sources(df.columns, asked, spec, data)
    if not asked:
        df, asked, source = with_row_index(df), [ROW_INDEX], {ROW_INDEX: ROW_INDEX}
    kept = list(dict.fromkeys(source[c] for c in asked))
    inputs = [c for c in spec.inputs() if c in df.columns]
    fields = {f.name: f for f in df.schema.fields}
    both = df.select(*[f"`{c}`" for c in dict.fromkeys([*kept, *inputs])]).mapInPandas(
        partial(_check_and_score, model_name, tuple(kept), data, is_csv(data)),
        _pass_schema([fields[c] for c in kept]),
    )
    both = both.persist()  # the findings are read first, the prices written after
    try:
        rows = _run(
            lambda: both.where(F.col(FINDING).isNotNull()).select(*FINDINGS).collect(), data
        )
        used = {*inputs, *kept}
        batch = _summary(rows, data, [c for c in df.columns if c not in used])
        t1 = time.perf_counter()
        prices = both.where(F.col(FINDING).isNull()).select(
            *[F.col(f"`{source[c]}`").alias(c) for c in asked], *PRICE_COLUMNS
        )
        _run(lambda: prices.write.mode("overwrite").parquet(out), out)
    finally:
        both.unpersist()
    return SparkResult(
        rows=batch.rows,
        kept=asked,
        batch=batch,
        seconds={"check_and_score": t1 - t0, "write": time.perf_counter() - t1},
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
    """snake_case API names -> the spec's column names; at least one model input present.
    Spaces around a header's names go, as the local reader drops them."""
    for old, new in zip(df.columns, trimmed(df.columns), strict=True):
        if old != new:
            df = df.withColumnRenamed(old, new)
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


def _summary(rows: list[Any], data: str, ignored: list[str]) -> BatchResult:
    """The executors' counts summed: the local engine's report, or its error if a hard
    rule is broken anywhere."""
    report = ValidationReport(rows=0)
    merged: dict[tuple[str, str, bool], tuple[int, list[str]]] = {}
    key_missing: dict[str, int] = {}
    out_of_range: dict[str, int] = {}
    for rule, column, count, hard, examples in rows:
        if rule == "_rows":
            report.rows += int(count)
        elif rule == "_key_missing":
            key_missing[column] = key_missing.get(column, 0) + int(count)
        elif rule == "_out_of_range":
            out_of_range[column] = out_of_range.get(column, 0) + int(count)
        else:
            key = (rule, column, bool(hard))
            total, seen = merged.get(key, (0, []))
            new = [e for e in (examples or "").split(SEP) if e]
            # a missing column is reported once, not once per batch
            total = max(total, count) if rule.startswith("schema:") else total + count
            merged[key] = (int(total), (seen + new)[:EXAMPLES])
    for (rule, column, hard), (count, examples) in merged.items():
        report.violations.append(Violation(rule, column, count, examples, hard))
    require_valid(report, data)
    return BatchResult(
        rows=report.rows,
        kept=[],
        ignored=ignored,
        report=report,
        key_missing=key_missing,
        out_of_range=out_of_range,
    )


def _check_and_score(
    model_name: str,
    kept: tuple[str, ...],
    source: str,
    csv: bool,
    batches: Iterator[pd.DataFrame],
) -> Iterator[pd.DataFrame]:
    """Per batch: its findings (as rows of their own), then its prices unless a hard rule is
    broken (the job will fail: scoring it would be wasted)."""
    model = executor.model(model_name)
    spec = model.spec
    for pdf in batches:
        pdf = typed(pdf, spec, csv)
        report = validate(pdf, spec, target=False, training=False, source=source)
        found = [("_rows", "", len(pdf), False, "")]
        found += [
            (v.rule, v.column, v.count, v.hard, SEP.join(str(e) for e in v.examples[:EXAMPLES]))
            for v in report.violations
        ]
        missing = model.encoder.missing_counts(pdf, spec.key_features)
        found += [("_key_missing", c, n, False, "") for c, n in missing.items()]
        outside = model.encoder.out_of_range_counts(pdf)
        found += [("_out_of_range", c, n, False, "") for c, n in outside.items()]
        findings = pd.DataFrame(found, columns=list(FINDINGS))
        for c in (*kept, *PRICE_COLUMNS):
            findings.insert(len(findings.columns) - len(FINDINGS), c, None)
        yield findings[[*kept, *PRICE_COLUMNS, *FINDINGS]]
        if report.hard:
            continue
        log_price = model.predict_log(pdf)
        low, high = model.price_range(log_price)
        out = pd.DataFrame({c: pdf[c].to_numpy() for c in kept})
        for name, values in zip(PRICE_COLUMNS, (np.expm1(log_price), low, high), strict=True):
            out[name] = values
        for c in FINDINGS:
            out[c] = None
        yield out


def typed(pdf: pd.DataFrame, spec: DataSpec, csv: bool = False) -> pd.DataFrame:
    """What the local reader does to a CSV's cells: its missing-value markers (``NA``,
    ``n/a``, ...) are missing in every text cell, and a numeric feature that inference left
    as text because of them becomes numbers. Any other text stays, for validation to
    report."""
    numeric = {f.name for f in spec.features if f.kind == "numeric"}
    for c in pdf.columns:
        if pdf[c].dtype != object:
            continue
        if csv:
            pdf[c] = pdf[c].mask(na_marked(pdf[c]))
        if c in numeric:
            col = pdf[c].mask(na_marked(pdf[c]))
            parsed = pd.to_numeric(col, errors="coerce")
            if parsed.notna().sum() == col.notna().sum():
                pdf[c] = parsed
    return pdf


def _pass_schema(kept: list[Any]) -> Any:
    """Key columns, prices, then the finding columns (null on price rows; a finding row has
    null keys and prices)."""
    from pyspark.sql.types import (  # lazy: pyspark only for the Spark engine
        BooleanType,
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    kinds = (StringType(), StringType(), LongType(), BooleanType(), StringType())
    return StructType(
        [
            *[StructField(f.name, f.dataType, True) for f in kept],
            *[StructField(c, DoubleType(), True) for c in PRICE_COLUMNS],
            *[StructField(c, t, True) for c, t in zip(FINDINGS, kinds, strict=True)],
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
