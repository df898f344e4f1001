"""Prediction log: every prediction stored through SQLAlchemy, written off the request path.

Rows go into an in-memory queue when the response is built and a writer thread flushes them in
batches; ``close()`` drains the queue, so a graceful shutdown loses nothing acknowledged. A
columnar batch request is one record (``prediction_batches``: its inputs and prices as one
Arrow stream), so logging 10,000 houses costs one insert, not 10,000; readers expand it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event

log = logging.getLogger("prices_predictor.store.predictions")
PRUNE_EVERY_S = 3600.0

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
)
# rows logged before the column existed were Ames models (see ``read_recent``)
ADDED_COLUMNS = {"spec_hash": "VARCHAR(16)"}

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
    sa.Column("rows", sa.LargeBinary, nullable=False),  # Arrow IPC stream: inputs + prices
)
PRICE_FIELDS = ("price", "price_low", "price_high")


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _sqlite_datetime(ts: dt.datetime) -> str:
    return (ts.astimezone(dt.UTC) if ts.tzinfo else ts).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_bool(v: Any) -> int | None:
    return None if v is None else int(bool(v))


def _sqlite_binding(column: sa.Column[Any]) -> tuple[str, Any, Callable[[Any], Any] | None]:
    """(name, default, conversion) of one column, as SQLAlchemy binds it for SQLite."""
    default = column.default.arg if isinstance(column.default, sa.ColumnDefault) else None
    if isinstance(column.type, sa.DateTime):
        return column.name, default, lambda v: None if v is None else _sqlite_datetime(v)
    if isinstance(column.type, sa.Boolean):
        return column.name, default, _sqlite_bool
    if isinstance(column.type, sa.JSON):
        return column.name, default, _json  # None too: SQLAlchemy writes JSON null
    return column.name, default, None


# every column but the key, from the table itself: a column added there is bound here too
_SQLITE_BINDINGS = [_sqlite_binding(c) for c in predictions.columns if not c.primary_key]
_SQLITE_INSERT = "INSERT INTO predictions ({}) VALUES ({})".format(
    ", ".join(name for name, _, _ in _SQLITE_BINDINGS), ", ".join("?" * len(_SQLITE_BINDINGS))
)


def _sqlite_values(r: dict[str, Any]) -> tuple[Any, ...]:
    """One row as SQLAlchemy would bind it for SQLite, without its per-row machinery (about
    half of the writer thread's Python time): datetimes as its text format (UTC, no offset),
    booleans as 0/1, JSON as text, column defaults where a row has no value. Tested to read
    back the same through SQLAlchemy."""
    return tuple(
        r.get(name, default) if conv is None else conv(r.get(name, default))
        for name, default, conv in _SQLITE_BINDINGS
    )


def make_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, pool_pre_ping=True, future=True, json_serializer=_json)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _wal(conn: Any, _: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

    metadata.create_all(engine)
    _add_missing_columns(engine)
    return engine


def _add_missing_columns(engine: sa.Engine) -> None:
    """Columns added to the table since a database was created (no data to move)."""
    have = {c["name"] for c in sa.inspect(engine).get_columns("predictions")}
    missing = {k: v for k, v in ADDED_COLUMNS.items() if k not in have}
    if not missing:
        return
    with engine.begin() as conn:
        for name, kind in missing.items():
            conn.exec_driver_sql(f"ALTER TABLE predictions ADD COLUMN {name} {kind}")


class PredictionLog:
    """Queue in memory, write in batches from one thread; ``close()`` drains everything.

    The writer sleeps ``flush_s`` between batches instead of waking on every row, so under
    load one INSERT carries hundreds of rows and the request path only appends to a deque.
    """

    def __init__(
        self,
        url: str,
        flush_s: float = 0.5,
        batch: int = 5000,
        retention_days: float | None = None,
    ) -> None:
        self.engine = make_engine(url)
        self._sqlite = self.engine.dialect.name == "sqlite"
        self.flush_s = flush_s
        self.batch = batch
        self.retention_days = retention_days
        self._next_prune = 0.0  # monotonic time; 0: prune when the writer starts
        self._q: deque[dict[str, Any]] = deque()
        self._closing = threading.Event()
        self.errors = 0
        self.written = 0
        self.enqueued = 0
        self._count_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="predlog", daemon=True)
        self._thread.start()

    def add(self, rows: list[dict[str, Any]]) -> None:
        now = dt.datetime.now(dt.UTC)
        with self._count_lock:
            self.enqueued += len(rows)
        for r in rows:
            r.setdefault("ts", now)
        self._q.extend(rows)  # deque.extend is atomic under the GIL

    def add_batch(self, meta: dict[str, Any], columns: dict[str, Any], prices: Any) -> None:
        """One columnar batch: ``columns`` (name -> array) and ``prices`` (price, low, high
        arrays), encoded in the writer thread."""
        record = {**meta, "ts": dt.datetime.now(dt.UTC), "_columns": columns, "_prices": prices}
        with self._count_lock:
            self.enqueued += 1
        self._q.append(record)

    def _run(self) -> None:
        while True:
            if self.retention_days is not None and time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + PRUNE_EVERY_S
                try:
                    self.prune(self.retention_days)
                except Exception:  # the log keeps taking rows; retried an hour later
                    log.exception("prediction log retention failed")
            if self._closing.wait(self.flush_s):
                break
            self._drain()
        self._drain()

    def prune(self, older_than_days: float) -> int:
        """Delete predictions logged more than ``older_than_days`` ago; return how many."""
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=older_than_days)
        with self.engine.begin() as conn:
            deleted = conn.execute(predictions.delete().where(predictions.c.ts < cutoff)).rowcount
        if deleted:
            log.info(
                "prediction log pruned", extra={"rows": deleted, "older_than_days": older_than_days}
            )
        return int(deleted or 0)

    def _drain(self) -> None:
        while self._q:
            buf: list[dict[str, Any]] = []
            while self._q and len(buf) < self.batch:
                buf.append(self._q.popleft())
            self._write(buf)

    def _write(self, items: list[dict[str, Any]]) -> None:
        rows = [r for r in items if "_columns" not in r]
        batches = [encode_batch(r) for r in items if "_columns" in r]
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    if rows and self._sqlite:
                        conn.exec_driver_sql(_SQLITE_INSERT, [_sqlite_values(r) for r in rows])
                    elif rows:
                        conn.execute(predictions.insert(), rows)
                    if batches:
                        conn.execute(prediction_batches.insert(), batches)
                self.written += len(items)
                return
            except Exception:  # retried; then counted and logged, never raised into requests
                if attempt == 2:
                    self.errors += len(rows)
                    log.exception("prediction log write failed", extra={"rows": len(rows)})

    def flush(self, timeout: float = 10.0) -> None:
        """Block until everything queued so far is written (tests, admin)."""
        deadline = dt.datetime.now() + dt.timedelta(seconds=timeout)
        while self.written + self.errors < self.enqueued and dt.datetime.now() < deadline:
            threading.Event().wait(0.01)

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=30)
        self.engine.dispose()


def encode_batch(record: dict[str, Any]) -> dict[str, Any]:
    """A batch record as a ``prediction_batches`` row: inputs and prices as one Arrow stream."""
    import pyarrow as pa  # lazy: pyarrow only when a batch is logged

    columns = {
        **record.pop("_columns"),
        **dict(zip(PRICE_FIELDS, record.pop("_prices"), strict=True)),
    }
    arrays = {c: pa.array(_plain(v), from_pandas=True) for c, v in columns.items()}
    table = pa.table(arrays)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return {**record, "n_rows": table.num_rows, "rows": sink.getvalue().to_pybytes()}


def _plain(values: Any) -> Any:
    """Categoricals as their values (mixed-type levels as text)."""
    if hasattr(values, "categories"):
        return [None if v is None or v != v else str(v) for v in values.astype(object)]
    return values


def decode_batch(row: dict[str, Any]) -> list[dict[str, Any]]:
    """A ``prediction_batches`` row back into one prediction row per house."""
    import pyarrow as pa  # lazy: pyarrow only when a batch is read

    records = pa.ipc.open_stream(row["rows"]).read_all().to_pylist()
    meta = {k: v for k, v in row.items() if k not in ("rows", "n_rows", "id")}
    out = []
    for i, rec in enumerate(records):
        prices = {k: rec.pop(k) for k in PRICE_FIELDS}
        features = {k: v for k, v in rec.items() if v is not None}
        out.append({**meta, "row": i, "shadow": False, "features": features, **prices})
    return out


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
