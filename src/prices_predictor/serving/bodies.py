"""Request bodies that carry a table of houses by columns: MLflow's JSON formats, CSV,
Parquet and Arrow IPC. Each becomes ``name -> column`` and a row count, with no per-row work
where the format is already columnar."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import orjson

from prices_predictor.core.table import Coded
from prices_predictor.serving.errors import InputError
from prices_predictor.spec.table import transpose

JSON, CSV = "application/json", "text/csv"
PARQUET, ARROW = "application/vnd.apache.parquet", "application/vnd.apache.arrow.stream"
TYPES = (JSON, CSV, PARQUET, ARROW)
FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
Columns = tuple[dict[str, Any], int]


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header; 415 naming the types we take otherwise."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in TYPES or mime.endswith("+json") or mime == "application/json":
        return JSON if "json" in mime else mime
    raise UnsupportedType(mime)


class UnsupportedType(Exception):
    def __init__(self, mime: str) -> None:
        super().__init__(mime)
        self.items = [
            {
                "field": "content-type",
                "rule": "media_type",
                "message": f"expected one of {', '.join(TYPES)}, got '{mime or '(none)'}'",
            }
        ]


def parse(mime: str, raw: bytes) -> Columns:
    if mime == JSON:
        return from_json(loads(raw))
    if mime == CSV:
        return _from_csv(raw)
    return _from_arrow(raw, mime)


def loads(raw: bytes) -> Any:
    """orjson; the standard parser for what it refuses (the NaN MLflow clients send for
    missing values)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    import json  # lazy: only for the NaN literals orjson refuses

    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InputError("body", "json", f"invalid JSON: {exc}") from None


def from_json(payload: Any) -> Columns:
    """MLflow's four JSON formats (``params`` is accepted and ignored, as MLflow does)."""
    if not isinstance(payload, dict):
        raise InputError("body", "mlflow_format", "expected a JSON object")
    keys = [k for k in FORMATS if k in payload]
    if len(keys) != 1:
        raise InputError("body", "mlflow_format", f"give exactly one of {', '.join(FORMATS)}")
    key, data = keys[0], payload[keys[0]]
    if key == "dataframe_split":
        return _split(data)
    if key == "inputs" and isinstance(data, dict):
        if all(isinstance(v, list) for v in data.values()):  # columnar "inputs"
            lengths = {len(v) for v in data.values()}
            if len(lengths) > 1:
                raise InputError(key, "mlflow_format", "columns must have equal lengths")
            return dict(data), lengths.pop() if lengths else 0
        data = [data]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError(key, "mlflow_format", "expected a list of records (objects)")
    names: dict[str, None] = {}
    for r in data:
        names.update(dict.fromkeys(r))
    return {c: [r.get(c) for r in data] for c in names}, len(data)


def _split(data: Any) -> Columns:
    if not isinstance(data, dict) or "data" not in data:
        raise InputError("dataframe_split", "mlflow_format", "needs 'data' (and 'columns')")
    rows, cols = data["data"], data.get("columns")
    if not isinstance(rows, list) or not isinstance(cols, list):
        raise InputError("dataframe_split", "mlflow_format", "'columns' and 'data' are lists")
    if not all(isinstance(r, list) and len(r) == len(cols) for r in rows):
        raise InputError(
            "dataframe_split.data", "mlflow_format", "rows must be lists as long as columns"
        )
    return transpose([str(c) for c in cols], rows), len(rows)


def _from_csv(raw: bytes) -> Columns:
    """Read as ``predict`` reads the same file (separator, decimal commas, ``$42,000``)."""
    # lazy: pandas and the file reader are needed by CSV bodies only
    from prices_predictor.data.ingest import read_csv_bytes

    try:
        frame = read_csv_bytes(raw)
    except Exception as exc:  # the parser's errors all mean "not a CSV table"
        raise InputError("body", "csv", f"cannot read CSV: {str(exc).splitlines()[0]}") from None
    return {str(c): _text_as_category(frame[c]) for c in frame.columns}, len(frame)


def _text_as_category(col: Any) -> Any:
    import pandas as pd  # lazy: loaded with the CSV reader

    if col.dtype != object:
        return col.to_numpy()
    codes, levels = pd.factorize(col.to_numpy(), use_na_sentinel=True)
    return Coded(codes.astype(np.int64, copy=False), list(levels))


def _from_arrow(raw: bytes, mime: str) -> Columns:
    import pyarrow as pa  # lazy: pyarrow only for Parquet and Arrow bodies
    import pyarrow.parquet as pq

    try:
        if mime == PARQUET:
            table = pq.read_table(io.BytesIO(raw))
        else:
            table = pa.ipc.open_stream(raw).read_all()
    except Exception as exc:  # pyarrow's errors all mean "not that format"
        kind = "Parquet" if mime == PARQUET else "an Arrow IPC stream"
        raise InputError("body", "format", f"not {kind}: {str(exc).splitlines()[0]}") from None
    return {name: _arrow_column(table.column(name), pa) for name in table.column_names}, (
        table.num_rows
    )


def _arrow_column(col: Any, pa: Any) -> Any:
    """Text factorised once (Arrow's dictionary encoding), numbers as numpy (nulls as NaN)."""
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        encoded = col if pa.types.is_dictionary(t) else col.dictionary_encode()
        array = encoded.combine_chunks() if hasattr(encoded, "combine_chunks") else encoded
        if isinstance(array, pa.ChunkedArray):  # no chunks: an empty column
            array = pa.array([], type=pa.dictionary(pa.int32(), pa.string()))
        codes = array.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        return Coded(codes.astype(np.int64, copy=False), array.dictionary.to_pylist())
    if pa.types.is_boolean(t):
        return np.asarray(col.to_pylist(), dtype=object)
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return col.to_pandas().to_numpy()
    return col.to_numpy(zero_copy_only=False)
