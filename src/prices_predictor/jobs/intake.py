"""What a submitted file must be before it becomes a job: a CSV (plain or compressed with
gzip, bzip2 or xz), Parquet, ZIP (one CSV) or Excel workbook whose header names at least one
of the model's features. Anything else is refused at once (HTTP 4xx) rather than failing
later in a worker; the rows themselves are checked by the worker with the model's spec,
exactly as ``predict`` checks them.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from prices_predictor.core.errors import DataError
from prices_predictor.data.ingest import (
    COMPRESSIONS,
    CsvSource,
    ExcelSource,
    FileSource,
    ParquetSource,
    ZipSource,
)
from prices_predictor.spec.model import DataSpec, field_map

# a file's first bytes say what it is, whatever name or content type it came with
MAGIC = (
    (b"PAR1", ".parquet"),
    (b"PK\x03\x04", ".zip"),
    (b"PK\x05\x06", ".zip"),
    *((magic, ".csv" + c) for c, codec in COMPRESSIONS.items() for magic in codec.magic),
)
SOURCES: dict[str, Callable[[Path], FileSource]] = {
    ".csv": partial(CsvSource, compression=""),
    **{".csv" + c: partial(CsvSource, compression=c) for c in COMPRESSIONS},
    ".parquet": ParquetSource,
    ".zip": ZipSource,
    ".xlsx": ExcelSource,
}
WORKBOOK = "xl/workbook.xml"  # the member that makes a ZIP an Excel workbook


@dataclass(frozen=True)
class Upload:
    """An accepted file: its kind, columns and (Parquet) row count."""

    suffix: str
    columns: list[str]
    rows: int | None


def sniff(head: bytes) -> str:
    """'.parquet', '.zip', '.csv' or a compressed CSV's suffix from the first bytes of a file
    (an Excel workbook is a ZIP: ``check_upload`` looks inside)."""
    for magic, suffix in MAGIC:
        if head.startswith(magic):
            return suffix
    if b"\x00" in head[:4096]:
        raise DataError("not a CSV, Parquet, ZIP or Excel file (binary content of another kind)")
    return ".csv"


def check_upload(path: Path, name: str, spec: DataSpec) -> Upload:
    """Header checks of a received file; errors name the file as the client called it."""
    with path.open("rb") as fh:
        head = fh.read(8192)
    if not head:
        raise DataError(f"{name}: file is empty")
    try:
        suffix = sniff(head)
        if suffix == ".zip" and _is_workbook(path):
            suffix = ".xlsx"
        columns = SOURCES[suffix](path).header()
    except DataError as exc:
        text = str(exc).replace(str(path), name)
        raise DataError(text if text.startswith(name) else f"{name}: {text}") from None
    names = field_map(spec)
    as_columns = [names.get(c, c) for c in columns]
    twice = [c for c, k in Counter(as_columns).items() if k > 1]
    if twice:
        raise DataError(f"{name}: column '{twice[0]}' appears more than once")
    inputs = set(spec.inputs())
    if not inputs.intersection(as_columns):
        example = ", ".join(spec.inputs()[:3])
        raise DataError(
            f"{name}: none of its {len(columns)} columns is an input of the model "
            f"(expected e.g. {example}): not a table of houses for this model"
        )
    rows = _parquet_rows(path) if suffix == ".parquet" else None
    return Upload(suffix, columns, rows)


def _is_workbook(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return WORKBOOK in archive.namelist()
    except zipfile.BadZipFile:
        return False  # the ZIP source says what is wrong with it


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq  # lazy: pyarrow only for Parquet uploads

    return int(pq.ParquetFile(path).metadata.num_rows)
