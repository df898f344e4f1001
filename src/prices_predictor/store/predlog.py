"""The prediction log: a journal on local disk in front of the database, and its shipper.

``add`` / ``add_batch`` append a request's rows to the journal (``store.journal``) before its
response is sent and raise ``JournalUnavailable`` when they cannot (budget used up, disk
error): a prediction is acknowledged only once it is durable. A shipper thread moves the
journal into SQLite/PostgreSQL in batches, idempotently, deletes a segment once its rows are
committed, backs off exponentially while the database is down, and on start ships what an
earlier process left. Memory does not grow with an outage; the journal does, up to
``PP_PREDLOG_MAX_BYTES``.
"""

from __future__ import annotations

import datetime as dt
import logging
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from prices_predictor.store import predictions as tables
from prices_predictor.store.journal import (
    BATCH,
    ROWS,
    Journal,
    JournalUnavailable,
    Record,
    instance_of,
    read_chunk,
    scan,
)

log = logging.getLogger("prices_predictor.store.predlog")
PRUNE_EVERY_S = 3600.0
MAX_BACKOFF_S = 10.0
CHUNK_BYTES = 16 << 20
CLOSE_TIMEOUT_S = 10.0
META = struct.Struct("<I")

__all__ = ["JournalUnavailable", "LogStats", "PredictionLog"]


@dataclass(frozen=True)
class LogStats:
    """What the metrics report about the log."""

    backlog_rows: int
    backlog_bytes: int
    oldest_unshipped_s: float
    shipped_rows: int
    failed_attempts: int
    rejected_rows: int
    lost_bytes: int
    journal_bytes: int
    max_bytes: int


class PredictionLog:
    """Journal now, database in batches; ``flush()`` waits for the database, ``close()``
    ships what it can and leaves the rest in the journal for the next start."""

    def __init__(
        self,
        url: str,
        journal_dir: Path,
        flush_s: float = 0.5,
        batch: int = 5000,
        retention_days: float | None = None,
        max_bytes: int = 1 << 30,
        fsync: bool = False,
    ) -> None:
        self.engine = tables.new_engine(url)
        self.journal = Journal(journal_dir, max_bytes, fsync=fsync)
        self.flush_s = flush_s
        self.batch = batch
        self.retention_days = retention_days
        self._schema_ready = False
        self._next_prune = 0.0  # monotonic time; 0: prune when the shipper starts
        self._positions: dict[Path, int] = {}  # shipped prefix of segments still on disk
        self._leftover_rows = 0
        self.written = 0  # rows committed to the database
        self.failures = 0  # shipping attempts the database refused
        self.errors = 0  # rows found damaged in the journal (never stored)
        self.lost_bytes = 0
        self.down_since: float | None = None
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._started = 0
        self._clean = 0
        self._try_schema()
        self._thread = threading.Thread(target=self._run, name="predlog-shipper", daemon=True)
        self._thread.start()

    # -- request path ----------------------------------------------------------------------

    def add(self, rows: list[dict[str, Any]]) -> None:
        """One request's rows as one journal record (raises JournalUnavailable)."""
        payload = orjson.dumps(rows, option=orjson.OPT_SERIALIZE_NUMPY)
        self.journal.append(ROWS, len(rows), payload)

    def add_batch(self, meta: dict[str, Any], columns: dict[str, Any], prices: Any) -> None:
        """A columnar batch (``columns``: name -> array; ``prices``: price, low, high arrays)
        as one record; stored as one ``prediction_batches`` row."""
        n_rows, record = tables.encode_batch(columns, prices)
        head = orjson.dumps(meta)
        self.journal.append(BATCH, n_rows, META.pack(len(head)) + head + record)

    @property
    def enqueued(self) -> int:
        return self.journal.appended_rows + self._leftover_rows

    # -- shipping --------------------------------------------------------------------------

    def _run(self) -> None:
        self._count_leftovers()
        delay = 0.0
        while not self._closing.is_set():
            self._wake.wait(delay)
            self._wake.clear()
            if self._closing.is_set():
                break
            self._maybe_prune()
            delay = self.flush_s if self._one_pass() else self._backoff(delay)
        self.journal.close()  # seals the open segment: the last passes may delete it
        deadline = time.monotonic() + CLOSE_TIMEOUT_S
        delay = 0.0
        while time.monotonic() < deadline and not self._one_pass():
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = self._backoff(delay)
        left = self.backlog_rows()
        if left:
            log.warning("prediction log closed with rows left in the journal", extra={"rows": left})

    def _backoff(self, delay: float) -> float:
        return min(MAX_BACKOFF_S, max(0.25, delay * 2 if delay >= 0.25 else 0.25))

    def _one_pass(self) -> bool:
        with self._cond:
            self._started += 1
            number = self._started
        try:
            self._ship_all()
        except Exception as exc:  # the database is down or refused: retried with back-off
            self.failures += 1
            if self.down_since is None:
                self.down_since = time.monotonic()
                log.error(
                    "prediction log cannot reach the database; predictions wait in the journal",
                    extra={"error": str(exc).splitlines()[0] if str(exc) else repr(exc)},
                )
            return False
        if self.down_since is not None:
            log.warning(
                "prediction log database is back; journal shipped",
                extra={"down_s": round(time.monotonic() - self.down_since, 1)},
            )
            self.down_since = None
        with self._cond:
            self._clean = number
            self._cond.notify_all()
        return True

    def _ship_all(self) -> None:
        if not self._schema_ready:
            tables.ensure_schema(self.engine)
            self._schema_ready = True
        self.journal.recount()
        if self.backlog_rows():
            # reach the database before decoding anything: while it is down, a pass costs
            # one failed connect, not a chunk of rows built and thrown away
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        active: tuple[Path, int] | None = None
        for path in self.journal.segments():
            with self.journal.sealed(path) as sealed:
                mine_open = self.journal.is_active(path)
                if not sealed and not mine_open:
                    continue  # another live process is writing it
                pos = self._ship_segment(path, sealed)
                if sealed or self.journal.seal_if_shipped(path, pos):
                    self._positions.pop(path, None)
                    self.journal.remove(path)
                else:
                    active = (path, pos)
        self.journal.shipped_up_to(*(active or (None, 0)))

    def _ship_segment(self, path: Path, sealed: bool) -> int:
        """Store a segment's records from where the last pass stopped; return the new offset."""
        pos = self._positions.get(path, 0)
        while True:
            chunk = read_chunk(path, pos, self.batch, CHUNK_BYTES)
            if chunk.records:
                self._store(chunk.records)
                pos = self._positions[path] = chunk.end
            if chunk.corrupt:
                self._lost(path, pos)
                self.journal.seal(path)
                return pos
            if not chunk.records:
                if sealed:
                    self._torn_tail(path, pos)
                return pos

    def _store(self, records: list[Record]) -> None:
        rows: list[dict[str, Any]] = []
        batches: list[dict[str, Any]] = []
        for k, rec in enumerate(records):
            if k % tables.YIELD_EVERY == tables.YIELD_EVERY - 1:
                tables.let_requests_run()
            ts = dt.datetime.fromtimestamp(rec.ts_us / 1e6, dt.UTC)
            if rec.kind == ROWS:
                for i, r in enumerate(orjson.loads(rec.payload)):
                    stamp = r.get("ts")
                    r["ts"] = dt.datetime.fromisoformat(stamp) if isinstance(stamp, str) else ts
                    r["entry"] = f"{rec.key}/{i}"
                    rows.append(r)
            else:
                (n,) = META.unpack_from(rec.payload)
                meta = orjson.loads(rec.payload[META.size : META.size + n])
                record = rec.payload[META.size + n :]
                batches.append(
                    {**meta, "ts": ts, "entry": rec.key, "n_rows": rec.n_rows, "rows": record}
                )
        with self.engine.begin() as conn:
            tables.store(conn, rows, batches)
        self.written += sum(rec.n_rows for rec in records)

    def _lost(self, path: Path, pos: int) -> None:
        size = _size(path)
        self.lost_bytes += max(0, size - pos)
        log.error(
            "prediction journal segment damaged: the rest of it cannot be read",
            extra={"segment": path.name, "offset": pos, "bytes": size - pos},
        )

    def _torn_tail(self, path: Path, pos: int) -> None:
        size = _size(path)
        if size > pos:  # a record cut short by a power loss without PP_PREDLOG_FSYNC
            self.lost_bytes += size - pos
            log.error(
                "prediction journal segment ends in an incomplete record",
                extra={"segment": path.name, "bytes": size - pos},
            )

    def _count_leftovers(self) -> None:
        first: int | None = None
        for path in self.journal.segments():
            if instance_of(path) == self.journal.instance:
                continue  # written since start: already in ``appended_rows``
            rows, ts = scan(path)
            self._leftover_rows += rows
            first = ts if first is None else first
        if self._leftover_rows:
            log.info("prediction journal replay", extra={"rows": self._leftover_rows})
            if first is not None:
                self.journal.head_ts_us = min(first, self.journal.head_ts_us or first)

    def _try_schema(self) -> None:
        try:
            tables.ensure_schema(self.engine)
            self._schema_ready = True
        except Exception as exc:  # the shipper retries; predictions wait in the journal
            log.warning(
                "prediction database unreachable at start",
                extra={"error": str(exc).splitlines()[0] if str(exc) else repr(exc)},
            )

    def _maybe_prune(self) -> None:
        if self.retention_days is None or time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + PRUNE_EVERY_S
        try:
            self.prune(self.retention_days)
        except Exception:  # the log keeps taking rows; retried an hour later
            log.exception("prediction log retention failed")

    def prune(self, older_than_days: float) -> int:
        return tables.prune(self.engine, older_than_days)

    # -- waiting and reporting -------------------------------------------------------------

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything journaled so far is in the database; False on timeout."""
        with self._cond:
            target = self._started + 1
            self._wake.set()
            return self._cond.wait_for(lambda: self._clean >= target, timeout)

    def backlog_rows(self) -> int:
        return max(0, self.enqueued - self.written)

    def stats(self) -> LogStats:
        j = self.journal
        head = j.head_ts_us
        age = max(0.0, time.time() - head / 1e6) if head is not None else 0.0
        shipped_on_disk = sum(self._positions.values())
        return LogStats(
            backlog_rows=self.backlog_rows(),
            backlog_bytes=max(0, j.disk_bytes - shipped_on_disk),
            oldest_unshipped_s=age,
            shipped_rows=self.written,
            failed_attempts=self.failures,
            rejected_rows=j.rejected_rows,
            lost_bytes=self.lost_bytes,
            journal_bytes=j.disk_bytes,
            max_bytes=j.max_bytes,
        )

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        self._thread.join(timeout=CLOSE_TIMEOUT_S + 30)
        self.engine.dispose()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
