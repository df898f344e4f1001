"""The journal in front of the prediction database: records survive a crash of the writer, are
stored once however often they are shipped, wait while the database is down, and are bounded."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from prices_predictor.store import predictions as tables
from prices_predictor.store.journal import ROWS, Journal, JournalFull, read_chunk
from prices_predictor.store.predictions import predictions, read_recent
from prices_predictor.store.predlog import PredictionLog
from tests.conftest import logged


def _count(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(predictions)).scalar()
    engine.dispose()
    return int(n or 0)


def _wait(cond: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError("condition not met")


def test_records_read_back_whole_and_a_torn_or_damaged_one_is_detected(tmp_path: Path) -> None:
    j = Journal(tmp_path, max_bytes=1 << 20)
    for i in range(3):
        j.append(ROWS, 1, b'[{"i": %d}]' % i)
    j.close()
    (seg,) = j.segments()
    chunk = read_chunk(seg, 0, 100, 1 << 20)
    assert [r.payload for r in chunk.records] == [b'[{"i": 0}]', b'[{"i": 1}]', b'[{"i": 2}]']
    assert len({r.key for r in chunk.records}) == 3 and not chunk.corrupt
    data = seg.read_bytes()
    seg.write_bytes(data[:-4])  # the last record cut short (a power loss mid-write)
    chunk = read_chunk(seg, 0, 100, 1 << 20)
    assert len(chunk.records) == 2 and not chunk.corrupt
    damaged = bytearray(data)
    damaged[-3] ^= 0xFF  # one flipped byte in the last payload: the CRC catches it
    seg.write_bytes(bytes(damaged))
    chunk = read_chunk(seg, 0, 100, 1 << 20)
    assert len(chunk.records) == 2 and chunk.corrupt


def test_a_dead_writers_journal_is_shipped_at_start_and_a_replay_stores_nothing_twice(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    journal = tmp_path / "journal"
    # a "crashed" process: records in the journal, never shipped
    dead = Journal(journal, max_bytes=1 << 30)
    dead.append(ROWS, 3, _payload(logged([{"a": 1}] * 3, "dead")))
    dead.close()
    saved = tmp_path / "saved"
    shutil.copytree(journal, saved)
    log = PredictionLog(url, journal, flush_s=0.05)
    assert log.flush(30)
    assert _count(url) == 3 and not list(journal.glob("*.journal"))  # shipped, then deleted
    log.close()
    # the same segment shipped again (a crash between commit and delete): no duplicate
    shutil.copytree(saved, journal, dirs_exist_ok=True)
    log = PredictionLog(url, journal, flush_s=0.05)
    assert log.flush(30)
    log.close()
    assert _count(url) == 3
    assert sorted(r["request_id"] for r in read_recent(sa.create_engine(url))) == [
        "dead0",
        "dead1",
        "dead2",
    ]


def test_rows_wait_in_the_journal_while_the_database_is_down(tmp_path: Path) -> None:
    db_dir = tmp_path / "db"  # missing: SQLite cannot open the database
    url = f"sqlite:///{db_dir}/p.db"
    log = PredictionLog(url, tmp_path / "journal", flush_s=0.05)
    log.add(logged([{"a": 1}] * 5))
    assert not log.flush(1.0)
    stats = log.stats()
    assert stats.backlog_rows == 5 and stats.backlog_bytes > 0 and stats.failed_attempts >= 1
    assert stats.oldest_unshipped_s > 0.5
    db_dir.mkdir()  # the database is back: shipped on the next retry, without a restart
    assert log.flush(30)
    assert _count(url) == 5
    stats = log.stats()
    assert stats.backlog_rows == 0 and stats.oldest_unshipped_s == 0 and stats.shipped_rows == 5
    log.close()


def test_a_full_journal_refuses_new_records_until_shipped(tmp_path: Path) -> None:
    db_dir = tmp_path / "db"
    log = PredictionLog(f"sqlite:///{db_dir}/p.db", tmp_path / "journal", max_bytes=64 << 10)
    rows = logged([{"feature": "x" * 200}] * 20)
    with pytest.raises(JournalFull, match="PP_PREDLOG_MAX_BYTES"):
        for _ in range(100):
            log.add(rows)
    accepted = log.stats().backlog_rows
    assert 0 < accepted < 100 * 20 and log.stats().rejected_rows == 20
    assert log.stats().journal_bytes <= 64 << 10
    db_dir.mkdir()
    assert log.flush(30)
    # a second pass recounts the directory: the shipped segment must stay uncounted
    assert log.flush(30)
    assert log.stats().journal_bytes == 0
    log.add(rows)  # room again
    assert log.flush(30)
    assert _count(f"sqlite:///{db_dir}/p.db") == accepted + 20
    log.close()


def test_processes_sharing_a_journal_never_ship_a_segment_still_written(tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    other = Journal(journal, max_bytes=1 << 30)  # a sibling worker, alive, segment open
    other.append(ROWS, 2, _payload(logged([{"a": 1}] * 2, "other")))
    url = f"sqlite:///{tmp_path}/p.db"
    log = PredictionLog(url, journal, flush_s=0.05)
    log.add(logged([{"a": 1}], "mine"))
    assert log.flush(30)
    assert _count(url) == 1 and len(list(journal.glob("*.journal"))) == 2
    other.close()  # the sibling exits: its sealed segment is shipped by whoever comes next
    assert log.flush(30)
    _wait(lambda: _count(url) == 3)
    log.close()
    assert not list(journal.glob("*.journal"))


def _slow_segment_locks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer (this thread) pauses before locking a new segment: a shipper thread then
    runs many passes between the segment's creation and its lock, as it rarely does when
    the scheduler switches threads right after the file is created."""
    import fcntl
    import threading
    import types

    from prices_predictor.store import journal as journal_module

    def flock(fd: int, op: int) -> None:
        if threading.current_thread() is threading.main_thread():
            time.sleep(0.3)
        fcntl.flock(fd, op)

    slow = types.SimpleNamespace(flock=flock, LOCK_EX=fcntl.LOCK_EX, LOCK_NB=fcntl.LOCK_NB)
    monkeypatch.setattr(journal_module, "fcntl", slow)


def test_a_segment_being_opened_is_never_taken_for_a_shipped_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    url = f"sqlite:///{tmp_path}/p.db"
    journal = tmp_path / "journal"
    log = PredictionLog(url, journal, flush_s=0.01)
    recount, between = log.journal.recount, threading.Event()

    def slow_recount() -> None:  # the shipper lists the directory a while after recounting
        recount()
        between.set()
        time.sleep(0.1)

    monkeypatch.setattr(log.journal, "recount", slow_recount)
    _slow_segment_locks(monkeypatch)
    assert between.wait(10)
    # the first request opens the segment while the shipper is about to list the directory
    for i in range(5):
        log.add(logged([{"a": 1}] * 3, f"r{i}"))
    assert log.flush(30)
    log.close()
    assert _count(url) == 15 and not list(journal.iterdir())


def test_a_siblings_segment_being_opened_is_never_shipped_and_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    journal = tmp_path / "journal"
    sibling = PredictionLog(url, journal, flush_s=0.01)  # another worker's shipper
    _slow_segment_locks(monkeypatch)
    writer = Journal(journal, max_bytes=1 << 30)
    for i in range(5):
        writer.append(ROWS, 2, _payload(logged([{"a": 1}] * 2, f"w{i}")))
    writer.close()
    assert sibling.flush(30)
    _wait(lambda: _count(url) == 10)
    sibling.close()
    assert not list(journal.iterdir())
    # an unpublished segment left by a writer that crashed while opening it is swept
    crashed = journal / "0-000000.opening"
    crashed.touch()
    os.utime(crashed, (time.time() - 3600, time.time() - 3600))
    fresh = journal / "1-000000.opening"  # a live sibling's, mid-open: left alone
    fresh.touch()
    Journal(journal, max_bytes=1 << 30).close()
    assert sorted(p.name for p in journal.iterdir()) == [fresh.name]


def _payload(rows: list[dict[str, object]]) -> bytes:
    import orjson

    return orjson.dumps(rows)


def test_the_shipper_hands_the_gil_to_requests_while_it_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # it runs in the server's process: a chunk of thousands of rows in one GIL hold would
    # stall the request path for Python's switch interval (5 ms) at a time
    handed: list[int] = []
    monkeypatch.setattr(tables, "let_requests_run", lambda: handed.append(1))
    url = f"sqlite:///{tmp_path}/p.db"
    log = PredictionLog(url, tmp_path / "journal", flush_s=3600)
    # the shipper's first pass runs at start: let it finish (empty) so the rows below go in
    # one chunk, as the count below assumes (a pass racing the adds splits them in chunks,
    # and each chunk's decoding hands over once per full YIELD_EVERY rows)
    assert log.flush(30)
    for i in range(1000):
        log.add(logged([{"a": i}], f"r{i}"))
    assert log.flush(30)
    log.close()
    assert _count(url) == 1000
    # decoding and inserting, each every YIELD_EVERY rows
    assert len(handed) >= 2 * (1000 // tables.YIELD_EVERY)
