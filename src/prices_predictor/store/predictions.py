"""Prediction log: every prediction stored through SQLAlchemy, written off the request path.

Rows go into an in-memory queue when the response is built and a writer thread flushes them in
batches; ``close()`` drains the queue, so a graceful shutdown loses nothing acknowledged.
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

    def _write(self, rows: list[dict[str, Any]]) -> None:
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    if self._sqlite:
                        conn.exec_driver_sql(_SQLITE_INSERT, [_sqlite_values(r) for r in rows])
                    else:
                        conn.execute(predictions.insert(), rows)
                self.written += len(rows)
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


def read_recent(
    engine: sa.Engine,
    last: int | None = None,
    since: dt.datetime | None = None,
    spec_hash: str | None = None,
    legacy_hash: str | None = None,
) -> list[dict[str, Any]]:
    """Non-shadow predictions, newest first; with ``spec_hash`` only those read with that
    spec (rows from before the column existed count as ``legacy_hash``)."""
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
