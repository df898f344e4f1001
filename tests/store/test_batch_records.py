"""A columnar batch's log record: every input and price reads back per house, missing cells
stay missing, and records written by earlier releases (Arrow IPC streams) still read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from prices_predictor.core.table import Coded
from prices_predictor.store.predictions import decode_batch, encode_batch, read_recent
from prices_predictor.store.predlog import PredictionLog

COLUMNS = {
    "Gr Liv Area": np.array([1500.0, np.nan, 2400.5]),
    "Year Built": np.array([1990, 2005, 1920]),  # integers read back as numbers
    "Neighborhood": Coded(np.array([1, -1, 0]), ["NAmes", "CollgCr"]),
    "MS SubClass": Coded(np.array([0, 1, 1]), [20, "60"]),  # mixed levels read as text
    "Alley": np.full(3, None, dtype=object),  # a column sent empty
    "Roof Style": pd.Categorical(["Gable", None, "Hip"]),
}
PRICES = (np.array([200000.0, 150000.0, 99000.0]), np.array([1.0, 2.0, 3.0]), np.array([4.0] * 3))
META = {"request_id": "r1", "ts": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "n_rows": 3, "id": 1}


def _expect_features() -> list[dict[str, object]]:
    return [
        {
            "Gr Liv Area": 1500.0,
            "Year Built": 1990.0,
            "Neighborhood": "CollgCr",
            "MS SubClass": "20",
            "Roof Style": "Gable",
        },
        {"Year Built": 2005.0, "MS SubClass": "60"},
        {
            "Gr Liv Area": 2400.5,
            "Year Built": 1920.0,
            "Neighborhood": "NAmes",
            "MS SubClass": "60",
            "Roof Style": "Hip",
        },
    ]


def test_a_batch_record_reads_back_per_house() -> None:
    n, record = encode_batch(COLUMNS, PRICES)
    assert n == 3
    rows = decode_batch({**META, "rows": record})
    assert [r["features"] for r in rows] == _expect_features()
    assert [r["price"] for r in rows] == [200000.0, 150000.0, 99000.0]
    assert [r["price_low"] for r in rows] == [1.0, 2.0, 3.0]
    assert [r["row"] for r in rows] == [0, 1, 2]
    assert all(r["request_id"] == "r1" and r["shadow"] is False for r in rows)


def test_an_empty_batch_reads_back_empty() -> None:
    n, record = encode_batch({"Gr Liv Area": np.array([])}, (np.array([]),) * 3)
    assert n == 0
    assert decode_batch({**META, "rows": record}) == []


def test_a_record_an_earlier_release_wrote_as_arrow_still_reads() -> None:
    table = pa.table(
        {
            "Gr Liv Area": pa.array([1500.0, None]),
            "Neighborhood": pa.DictionaryArray.from_arrays(
                pa.array([0, None], type=pa.int32()), pa.array(["NAmes"])
            ),
            "price": [1.0, 2.0],
            "price_low": [0.5, 1.0],
            "price_high": [2.0, 4.0],
        }
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    rows = decode_batch({**META, "rows": sink.getvalue().to_pybytes()})
    assert [r["features"] for r in rows] == [
        {"Gr Liv Area": 1500.0, "Neighborhood": "NAmes"},
        {},
    ]
    assert [r["price_high"] for r in rows] == [2.0, 4.0]


def test_a_logged_batch_is_stored_and_read_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    log = PredictionLog(url, tmp_path / "journal", flush_s=0.05)
    try:
        meta = {
            "request_id": "b1",
            "model_name": "m",
            "model_version": "1",
            "variant": "x",
            "client_id": None,
            "spec_hash": "abc",
            "latency_ms": 2.5,
        }
        log.add_batch(meta, COLUMNS, PRICES)
        assert log.flush(60)
    finally:
        log.close()
    engine = sa.create_engine(url)
    rows = read_recent(engine)
    engine.dispose()
    assert [r["features"] for r in reversed(rows)] == _expect_features()
    assert {r["request_id"] for r in rows} == {"b1"}
    first = rows[-1]
    assert (first["model_version"], first["spec_hash"], first["latency_ms"]) == ("1", "abc", 2.5)
    stamp = first["ts"].replace(tzinfo=first["ts"].tzinfo or dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - stamp).total_seconds()) < 120  # stored as UTC


def test_many_levels_and_many_rows_read_back() -> None:
    n = 5000
    rng = np.random.default_rng(0)
    codes = rng.integers(-1, 300, n)  # more levels than int8 codes hold
    levels = [f"level {i}" for i in range(300)]
    area = rng.uniform(500, 5000, n).round(1)
    columns = {"Neighborhood": Coded(codes, levels), "Gr Liv Area": area}
    prices = (area * 100.01, area * 90.0, area * 110.0)
    _, record = encode_batch(columns, prices)
    rows = decode_batch({**META, "rows": record})
    assert [r["features"].get("Neighborhood") for r in rows] == [
        None if c < 0 else levels[c] for c in codes
    ]
    assert [r["features"]["Gr Liv Area"] for r in rows] == area.tolist()
    assert [r["price"] for r in rows] == prices[0].tolist()
