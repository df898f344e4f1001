"""Prediction log tables: one row per house, or one record per columnar batch.

Rows reach these tables from the journal (``store.journal``, shipped by ``store.predlog``);
``entry`` is unique: the journal record's key (and the row's place in it), so shipping a record
twice (a replay after a crash) stores it once. A columnar batch request is one record
(``prediction_batches``: its inputs and prices in one binary value, ``encode_batch``), so
logging 10,000 houses costs one insert, not 10,000; readers expand it.
"""

from __future__ import annotations

import datetime as dt
import logging
import struct
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event

from prices_predictor.core.table import Coded

log = logging.getLogger("prices_predictor.store.predictions")

metadata = sa.MetaData()
predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), index=True, nullable=False),
    sa.Column("row", sa.Integer, nullable=False, default=0),
    sa.Column("ts", sa.DateTime(timezone=True), index=True, nullable=False),
    sa.Column("model_name", sa.String(128), nullable=False),
    sa.Column("model_version", sa.String(32), nullable=False),
    sa.Column("variant", sa.String(32), nullable=False),
    sa.Column("shadow", sa.Boolean, nullable=False, default=False),
    sa.Column("client_id", sa.String(128)),
    sa.Column("features", sa.JSON, nullable=False),
    sa.Column("price", sa.Float, nullable=False),
    sa.Column("price_low", sa.Float),
    sa.Column("price_high", sa.Float),
    sa.Column("latency_ms", sa.Float),
    # the data spec the model read the features with: drift and A/B never mix schemas
    sa.Column("spec_hash", sa.String(16), index=True),
    # "<journal record>/<place in it>": the replay key (request ids come from clients and
    # may repeat; a request's rows and its shadow rows are separate records)
    sa.Column("entry", sa.String(48)),
)

prediction_batches = sa.Table(
    "prediction_batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), index=True, nullable=False),
    sa.Column("ts", sa.DateTime(timezone=True), index=True, nullable=False),
    sa.Column("model_name", sa.String(128), nullable=False),
    sa.Column("model_version", sa.String(32), nullable=False),
    sa.Column("variant", sa.String(32), nullable=False),
    sa.Column("client_id", sa.String(128)),
    sa.Column("spec_hash", sa.String(16), index=True),
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("latency_ms", sa.Float),
    sa.Column("rows", sa.LargeBinary, nullable=False),  # ``encode_batch``: inputs + prices
    sa.Column("entry", sa.String(48)),
)
# the replay keys (NULL for rows logged before the journal: never in conflict)
UNIQUE_ENTRY = (
    sa.Index("ux_predictions_entry", predictions.c.entry, unique=True),
    sa.Index("ux_prediction_batches_entry", prediction_batches.c.entry, unique=True),
)
# columns added since a database could have been created (no data to move)
ADDED_COLUMNS = {
    "predictions": {"spec_hash": "VARCHAR(16)", "entry": "VARCHAR(48)"},
    "prediction_batches": {"entry": "VARCHAR(48)"},
}
PRICE_FIELDS = ("price", "price_low", "price_high")
DIALECTS = ("sqlite", "postgresql")


# The shipper runs beside the request path in the server's process: holding the GIL for a
# whole chunk (thousands of rows) would stall requests for Python's switch interval (5 ms)
# at a time. It hands the GIL over every YIELD_EVERY rows (about a millisecond of work).
YIELD_EVERY = 32


def let_requests_run() -> None:
    time.sleep(0)  # releases the GIL: a waiting request thread takes it now


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _sqlite_datetime(ts: dt.datetime) -> str:
    return (ts.astimezone(dt.UTC) if ts.tzinfo else ts).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_bool(v: Any) -> int | None:
    return None if v is None else int(bool(v))


def _sqlite_binding(column: sa.Column[Any]) -> tuple[str, Any, Callable[[Any], Any] | None]:
    """(name, default, conversion) of one column, as SQLAlchemy binds it for SQLite."""
    default = _default(column)
    if isinstance(column.type, sa.DateTime):
        return column.name, default, lambda v: None if v is None else _sqlite_datetime(v)
    if isinstance(column.type, sa.Boolean):
        return column.name, default, _sqlite_bool
    if isinstance(column.type, sa.JSON):
        return column.name, default, _json  # None too: SQLAlchemy writes JSON null
    return column.name, default, None


def _default(column: sa.Column[Any]) -> Any:
    return column.default.arg if isinstance(column.default, sa.ColumnDefault) else None


# every column but the key, from the table itself: a column added there is bound here too
Binding = tuple[str, Any, Callable[[Any], Any] | None]
_SQLITE_BINDINGS: dict[str, list[Binding]] = {
    t.name: [_sqlite_binding(c) for c in t.columns if not c.primary_key]
    for t in (predictions, prediction_batches)
}
_SQLITE_INSERT = {
    table: "INSERT OR IGNORE INTO {} ({}) VALUES ({})".format(
        table, ", ".join(name for name, _, _ in bindings), ", ".join("?" * len(bindings))
    )
    for table, bindings in _SQLITE_BINDINGS.items()
}
_DEFAULTS = {
    t.name: {c.name: _default(c) for c in t.columns if not c.primary_key}
    for t in (predictions, prediction_batches)
}


def _sqlite_values(r: dict[str, Any], table: str) -> tuple[Any, ...]:
    """One row as SQLAlchemy would bind it for SQLite, without its per-row machinery (about
    half of the shipper's Python time): datetimes as its text format (UTC, no offset),
    booleans as 0/1, JSON as text, column defaults where a row has no value. Tested to read
    back the same through SQLAlchemy."""
    return tuple(
        r.get(name, default) if conv is None else conv(r.get(name, default))
        for name, default, conv in _SQLITE_BINDINGS[table]
    )


def make_engine(url: str) -> sa.Engine:
    """An engine on the log's database, its tables created or brought up to date."""
    engine = new_engine(url)
    ensure_schema(engine)
    return engine


def new_engine(url: str) -> sa.Engine:
    """An engine for the log, not connected yet (the database may be down at start)."""
    engine = sa.create_engine(url, pool_pre_ping=True, future=True, json_serializer=_json)
    if engine.dialect.name not in DIALECTS:
        raise ValueError(
            f"PP_PREDICTION_DB_URL: the prediction log runs on SQLite or PostgreSQL, "
            f"not {engine.dialect.name}"
        )
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _wal(conn: Any, _: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

    return engine


def ensure_schema(engine: sa.Engine) -> None:
    """Create the tables, add columns a database from an older release lacks, and the unique
    replay keys (idempotent; raises when the database is unreachable)."""
    metadata.create_all(engine)
    inspector = sa.inspect(engine)
    with engine.begin() as conn:
        for table, added in ADDED_COLUMNS.items():
            have = {c["name"] for c in inspector.get_columns(table)}
            for name, kind in added.items():
                if name not in have:
                    conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        for index in UNIQUE_ENTRY:
            index.create(conn, checkfirst=True)


def store(conn: sa.Connection, rows: list[dict[str, Any]], batches: list[dict[str, Any]]) -> None:
    """Insert rows and batch records, skipping any already stored (same journal key)."""
    if conn.dialect.name == "sqlite":
        for table, records in (("predictions", rows), ("prediction_batches", batches)):
            for start in range(0, len(records), YIELD_EVERY):
                values = [_sqlite_values(r, table) for r in records[start : start + YIELD_EVERY]]
                conn.exec_driver_sql(_SQLITE_INSERT[table], values)
                let_requests_run()
        return
    from sqlalchemy.dialects.postgresql import insert  # lazy: only on PostgreSQL

    if rows:
        full = [{**_DEFAULTS["predictions"], **r} for r in rows]
        conn.execute(insert(predictions).on_conflict_do_nothing(), full)
    if batches:
        full = [{**_DEFAULTS["prediction_batches"], **b} for b in batches]
        conn.execute(insert(prediction_batches).on_conflict_do_nothing(), full)


def prune(engine: sa.Engine, older_than_days: float) -> int:
    """Delete predictions logged more than ``older_than_days`` ago; return how many."""
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=older_than_days)
    deleted = 0
    with engine.begin() as conn:
        for table in (predictions, prediction_batches):
            deleted += conn.execute(table.delete().where(table.c.ts < cutoff)).rowcount or 0
    if deleted:
        log.info("prediction log pruned", extra={"rows": deleted, "days": older_than_days})
    return int(deleted)


# A batch record: MAGIC, the header's length (u32), the header (JSON: rows, the numeric and the
# text columns with their levels, the two blocks' dtypes), then the numbers (one run per
# column, the prices last) and the text codes (one run per column, -1 missing). Building it is
# a few numpy copies whatever the column count (an Arrow stream of ~80 columns cost ~10 us a
# column). Numbers are float64 (prices have cents, parcel ids nine digits); codes int8 or int16
# when the levels are few (a quarter less than int32 codes for Ames' 100 houses).
MAGIC = b"PPB1"
_HEAD = struct.Struct("<I")


def encode_batch(columns: dict[str, Any], prices: Any) -> tuple[int, bytes]:
    """A batch's inputs (name -> array) and (price, low, high) arrays as one record:
    (rows, bytes), the ``rows`` value of its ``prediction_batches`` record."""
    n = len(prices[0])
    numbers: list[str] = []
    texts: list[tuple[str, list[str]]] = []
    number_runs: list[Any] = []
    code_runs: list[np.ndarray] = []
    for name, values in columns.items():
        if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
            numbers.append(name)
            number_runs.append(values)
            continue
        codes, levels = _coded(values)
        texts.append((name, levels))
        code_runs.append(codes)
    number_runs.extend(prices)
    block = np.empty((len(number_runs), n), dtype="<f8")
    for i, run in enumerate(number_runs):
        block[i] = run
    most = max((len(levels) for _, levels in texts), default=0)
    codes_type = "<i1" if most < 1 << 7 else "<i2" if most < 1 << 15 else "<i4"
    codes_block = np.empty((len(code_runs), n), dtype=codes_type)
    for i, run in enumerate(code_runs):
        codes_block[i] = run
    types = {"numbers_dtype": block.dtype.str, "codes_dtype": codes_block.dtype.str}
    head = orjson.dumps({"n": n, "numbers": numbers, "text": texts, **types})
    body = b"".join((MAGIC, _HEAD.pack(len(head)), head, block.data, codes_block.data))
    return n, body


def _coded(values: Any) -> tuple[np.ndarray, list[str]]:
    """Text (factorised, Categorical, or cells) as codes and level strings (mixed types as
    text)."""
    if isinstance(values, Coded):
        return values.codes, [str(v) for v in values.levels]
    obj = np.asarray(values.astype(object) if hasattr(values, "categories") else values)
    codes, uniques = pd.factorize(obj.astype(object, copy=False), use_na_sentinel=True)
    return codes, [str(v) for v in uniques]


def decode_batch(row: dict[str, Any]) -> list[dict[str, Any]]:
    """A ``prediction_batches`` row back into one prediction row per house."""
    raw = bytes(row["rows"])
    records = _records(raw) if raw.startswith(MAGIC) else _arrow_records(raw)
    meta = {k: v for k, v in row.items() if k not in ("rows", "n_rows", "id", "entry")}
    out = []
    for i, rec in enumerate(records):
        prices = {k: rec.pop(k) for k in PRICE_FIELDS}
        features = {k: v for k, v in rec.items() if v is not None}
        out.append({**meta, "row": i, "shadow": False, "features": features, **prices})
    return out


def _records(raw: bytes) -> list[dict[str, Any]]:
    (size,) = _HEAD.unpack_from(raw, len(MAGIC))
    at = len(MAGIC) + _HEAD.size
    head = orjson.loads(raw[at : at + size])
    at += size
    n, names = head["n"], [*head["numbers"], *PRICE_FIELDS]
    texts = head["text"]
    block = np.frombuffer(raw, dtype=head["numbers_dtype"], count=len(names) * n, offset=at)
    block = block.astype(np.float64).reshape(len(names), n)
    at += block.size * np.dtype(head["numbers_dtype"]).itemsize
    codes = np.frombuffer(raw, dtype=head["codes_dtype"], count=len(texts) * n, offset=at)
    codes = codes.reshape(len(texts), n)
    columns: dict[str, list[Any]] = {}
    for name, values in zip(names, block, strict=True):
        columns[name] = [None if v != v else v for v in values.tolist()]  # NaN: missing
    for (name, levels), run in zip(texts, codes, strict=True):
        lookup = [*levels, None]  # code -1 picks the last entry
        columns[name] = [lookup[c] for c in run.tolist()]
    return [dict(zip(columns, cells, strict=True)) for cells in zip(*columns.values(), strict=True)]


def _arrow_records(raw: bytes) -> list[dict[str, Any]]:
    """A record from a release that stored batches as an Arrow IPC stream."""
    import pyarrow as pa  # lazy: pyarrow only for records of earlier releases

    return list(pa.ipc.open_stream(raw).read_all().to_pylist())


def read_recent(
    engine: sa.Engine,
    last: int | None = None,
    since: dt.datetime | None = None,
    spec_hash: str | None = None,
    legacy_hash: str | None = None,
) -> list[dict[str, Any]]:
    """Non-shadow predictions, newest first, batch records expanded; with ``spec_hash`` only
    those read with that spec (rows from before the column existed count as ``legacy_hash``)."""
    rows = _read_rows(engine, last, since, spec_hash, legacy_hash)
    b = prediction_batches
    q = sa.select(b)
    if since is not None:
        q = q.where(b.c.ts >= since)
    if spec_hash is not None:
        q = q.where(b.c.spec_hash == spec_hash)
    q = q.order_by(b.c.id.desc())
    batches, seen = [], 0
    with engine.connect() as conn:
        for r in conn.execute(q):  # newest first, only as many as the window needs
            batches.append(dict(r._mapping))
            seen += r.n_rows
            if last is not None and seen >= last:
                break
    if not batches:
        return rows
    expanded = [r for batch in batches for r in reversed(decode_batch(batch))]
    merged = sorted([*rows, *expanded], key=lambda r: r["ts"], reverse=True)
    return merged[:last] if last is not None else merged


def _read_rows(
    engine: sa.Engine,
    last: int | None,
    since: dt.datetime | None,
    spec_hash: str | None,
    legacy_hash: str | None,
) -> list[dict[str, Any]]:
    q = sa.select(predictions).where(predictions.c.shadow.is_(False))
    if spec_hash is not None:
        same = predictions.c.spec_hash == spec_hash
        if spec_hash == legacy_hash:
            same = same | predictions.c.spec_hash.is_(None)
        q = q.where(same)
    if since is not None:
        q = q.where(predictions.c.ts >= since)
    q = q.order_by(predictions.c.id.desc())
    if last is not None:
        q = q.limit(last)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
