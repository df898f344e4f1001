"""Prediction log: every prediction stored through SQLAlchemy, written off the request path.

Rows go into an in-memory queue when the response is built and a writer thread flushes them in
batches; ``close()`` drains the queue, so a graceful shutdown loses nothing acknowledged.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

log = logging.getLogger("prices_predictor.serving.predlog")

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
)


def make_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, pool_pre_ping=True, future=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _wal(conn: Any, _: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

    metadata.create_all(engine)
    return engine


class PredictionLog:
    def __init__(self, url: str, flush_s: float = 0.5, batch: int = 1000) -> None:
        self.engine = make_engine(url)
        self.flush_s = flush_s
        self.batch = batch
        self._q: queue.Queue[dict[str, Any] | None] = queue.Queue()
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
            self._q.put(r)

    def _run(self) -> None:
        done = False
        while not done:
            buf: list[dict[str, Any]] = []
            try:
                item = self._q.get(timeout=self.flush_s)
                if item is None:
                    done = True
                else:
                    buf.append(item)
                while len(buf) < self.batch:
                    item = self._q.get_nowait()
                    if item is None:
                        done = True
                        break
                    buf.append(item)
            except queue.Empty:
                pass
            if buf:
                self._write(buf)
        rest: list[dict[str, Any]] = []
        while True:
            try:
                item = self._q.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                rest.append(item)
        if rest:
            self._write(rest)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
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
        self._q.put(None)
        self._thread.join(timeout=30)
        self.engine.dispose()


def read_recent(
    engine: sa.Engine, last: int | None = None, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    q = sa.select(predictions).where(predictions.c.shadow.is_(False))
    if since is not None:
        q = q.where(predictions.c.ts >= since)
    q = q.order_by(predictions.c.id.desc())
    if last is not None:
        q = q.limit(last)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
