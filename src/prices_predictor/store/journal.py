"""Write-ahead journal of acknowledged predictions: append-only segment files on local disk.

A request's rows are one record, written with one ``write`` before its response is sent, so
a crash of the process (kill -9, OOM) loses nothing acknowledged: the OS page cache holds the
bytes and the next start ships them. ``fsync=True`` also survives losing the machine, at the
cost of a disk flush per request.

Record layout (little-endian): a 32-byte header, then the payload.

    magic "PJ" | kind u8 | flags u8 | payload length u32 | crc32 u32
    | rows u32 | seq u64 | ts_us i64

The CRC covers the payload and the fields after it, so a torn or damaged record is detected
instead of shipped. A segment is named ``<instance>-<segment>.journal``; the instance (start
time in hex, then random) makes names sort in write order across restarts and processes, and
``<instance>.<seq>`` is the record's key in the database, unique, so replaying a segment never
stores a row twice. A writer holds an exclusive ``flock`` on its open segment: several worker
processes can share the directory, and one only ships another's segment once it is sealed.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("prices_predictor.store.journal")

HEADER = struct.Struct("<2sBBII")  # magic, kind, flags, payload length, crc
TAIL = struct.Struct("<IQq")  # rows, seq, ts (microseconds since the epoch)
HEADER_BYTES = HEADER.size + TAIL.size
MAGIC = b"PJ"
ROWS, BATCH = 1, 2
SUFFIX = ".journal"
OPENING = ".opening"  # a segment's name until its writer holds the lock: shippers skip it
# a fully shipped open segment is sealed (and deleted) once it is this big
SEAL_BYTES = 1 << 20


class JournalUnavailable(Exception):
    """The journal cannot take a record: the prediction must not be acknowledged."""


class JournalFull(JournalUnavailable):
    """The disk budget (``PP_PREDLOG_MAX_BYTES``) is used up by records not yet shipped."""


@dataclass(frozen=True)
class Record:
    key: str  # "<instance>.<seq>": unique across processes and restarts
    kind: int
    n_rows: int
    ts_us: int
    payload: bytes


@dataclass
class Chunk:
    """Records read from one segment, and where reading stopped."""

    records: list[Record]
    end: int  # offset after the last complete record read
    corrupt: bool  # a damaged record stopped the read (the rest of the segment is unreadable)


def instance_of(path: Path) -> str:
    return path.name.rsplit("-", 1)[0]


def new_instance() -> str:
    return f"{time.time_ns():016x}{secrets.token_hex(4)}"


class Journal:
    """Appends records under a lock; knows its bytes on disk against the budget."""

    def __init__(
        self,
        directory: Path,
        max_bytes: int,
        fsync: bool = False,
        segment_bytes: int | None = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.dir = directory
        self.max_bytes = max_bytes
        self.fsync = fsync
        self.segment_bytes = segment_bytes or max(64 << 10, min(16 << 20, max_bytes // 8))
        self.instance = new_instance()
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._active: Path | None = None
        self._active_size = 0
        self._segno = 0
        self._seq = 0
        self._disk_bytes = sum(p.stat().st_size for p in self.segments())
        self._sweep_openings()
        self.appended_rows = 0
        self.appended_records = 0
        self.rejected_rows = 0
        self.full = False
        self.head_ts_us: int | None = None  # oldest record not known to be shipped

    # -- writing -------------------------------------------------------------------------

    def append(self, kind: int, n_rows: int, payload: bytes, ts_us: int | None = None) -> None:
        """One record, one ``write``; raises JournalFull / JournalUnavailable instead."""
        ts_us = time.time_ns() // 1000 if ts_us is None else ts_us
        size = HEADER_BYTES + len(payload)
        payload_crc = zlib.crc32(payload)
        with self._lock:
            if self._disk_bytes + size > self.max_bytes:
                self.rejected_rows += n_rows
                if not self.full:
                    self.full = True
                    log.error(
                        "prediction journal full: rejecting predictions until it is shipped",
                        extra={"bytes": self._disk_bytes, "max_bytes": self.max_bytes},
                    )
                raise JournalFull(
                    f"prediction log full ({self._disk_bytes} of PP_PREDLOG_MAX_BYTES="
                    f"{self.max_bytes} bytes wait to be shipped to the database)"
                )
            if self._fd is None or self._active_size >= self.segment_bytes:
                self._open_segment()
            assert self._fd is not None
            tail = TAIL.pack(n_rows, self._seq, ts_us)
            head = HEADER.pack(MAGIC, kind, 0, len(payload), zlib.crc32(tail, payload_crc))
            self._write(head + tail + payload)
            self._seq += 1
            self._active_size += size
            self._disk_bytes += size
            self.appended_rows += n_rows
            self.appended_records += 1
            if self.head_ts_us is None:
                self.head_ts_us = ts_us

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        try:
            written = os.write(self._fd, data)
            if written != len(data):  # a regular file writes short only when the disk is full
                raise OSError(f"short write ({written} of {len(data)} bytes)")
            if self.fsync:
                os.fdatasync(self._fd)
        except OSError as exc:
            # never leave a partial record in front of the next one
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._active_size)
            log.error("prediction journal write failed", extra={"error": str(exc)})
            raise JournalUnavailable(f"prediction log cannot write to {self.dir}: {exc}") from exc

    def _open_segment(self) -> None:
        """Create, lock, then publish: a shipper (of any process) that lists the new name
        finds it locked, so it never takes the fresh, empty segment for a sealed one and
        deletes it while its writer appends to the unlinked file."""
        self._close_segment()
        name = f"{self.instance}-{self._segno:06d}"
        path, opening = self.dir / f"{name}{SUFFIX}", self.dir / f"{name}{OPENING}"
        try:
            fd = os.open(opening, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC)
        except OSError as exc:
            raise JournalUnavailable(f"prediction log cannot create {path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # unlisted name: nobody else holds it
            os.rename(opening, path)
        except OSError as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                opening.unlink()
            raise JournalUnavailable(f"prediction log cannot create {path}: {exc}") from exc
        if self.fsync:  # the new name must survive a power loss too
            dir_fd = os.open(self.dir, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        self._fd, self._active, self._active_size = fd, path, 0
        self._segno += 1

    def _sweep_openings(self) -> None:
        """Remove segments a crashed writer created but never published (empty: nothing is
        written before the rename); a recent one may be a live sibling's, mid-open."""
        stale = time.time() - 60
        for path in self.dir.glob(f"*{OPENING}"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < stale:
                    path.unlink()

    def _close_segment(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the flock: the segment is sealed
        # a sealed segment is counted from the directory, not as this process's open one
        self._fd, self._active, self._active_size = None, None, 0

    def close(self) -> None:
        with self._lock:
            self._close_segment()

    # -- what the shipper asks -----------------------------------------------------------

    def segments(self) -> list[Path]:
        """Segment files in write order (this process's and any other's)."""
        return sorted(self.dir.glob(f"*{SUFFIX}"))

    def is_active(self, path: Path) -> bool:
        """This process's open segment? Under the lock: an append that is opening ``path``
        finishes first, so a fresh segment is never taken for a sealed one."""
        with self._lock:
            return path == self._active

    @contextlib.contextmanager
    def sealed(self, path: Path) -> Iterator[bool]:
        """Whether ``path`` is sealed (no writer will append to it); holds it while True."""
        if instance_of(path) == self.instance:
            yield not self.is_active(path)
            return
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            yield False
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # a live process still writes to it
            os.close(fd)
            yield False
            return
        try:
            yield True
        finally:
            os.close(fd)

    def seal_if_shipped(self, path: Path, shipped_to: int) -> bool:
        """Seal this process's open segment if everything in it is shipped and it is big
        enough to be worth a new file; the shipper then deletes it."""
        with self._lock:
            if path != self._active or shipped_to != self._active_size:
                return False
            if self._active_size < min(SEAL_BYTES, self.segment_bytes // 4):
                return False
            self._close_segment()
            return True

    def seal(self, path: Path) -> None:
        with self._lock:
            if path == self._active:
                self._close_segment()

    def shipped_up_to(self, path: Path | None, offset: int) -> bool:
        """Called after a pass with the open segment's shipped offset: True (and the oldest
        unshipped time cleared) when nothing this process wrote is left to ship."""
        with self._lock:
            active = self._active
            caught_up = active is None or (path == active and offset >= self._active_size)
            if caught_up:
                self.head_ts_us = None
            return caught_up

    def remove(self, path: Path) -> None:
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            size = 0  # another process shipped and removed it
        with self._lock:
            self._disk_bytes = max(0, self._disk_bytes - size)
            if self.full and self._disk_bytes < self.max_bytes * 0.9:
                self.full = False
                log.warning("prediction journal has room again: accepting predictions")

    def recount(self) -> None:
        """Bytes on disk from the directory (other processes write and delete there too)."""
        total = sum(_size(p) for p in self.segments())
        with self._lock:
            # appends since the listing are in ``total`` or still to come: never count less
            # than this process's open segment holds
            self._disk_bytes = max(total, self._active_size)

    @property
    def disk_bytes(self) -> int:
        return self._disk_bytes


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def read_chunk(path: Path, offset: int, max_rows: int, max_bytes: int) -> Chunk:
    """Complete records from ``offset`` on, up to about ``max_rows`` rows / ``max_bytes``.

    Stops quietly at an incomplete record (being written now, or torn by a crash at the end
    of a sealed segment) and with ``corrupt`` at a damaged one.
    """
    instance = instance_of(path)
    records: list[Record] = []
    rows = nbytes = 0
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return Chunk([], offset, False)
    with f:
        f.seek(offset)
        while rows < max_rows and nbytes < max_bytes:
            head = f.read(HEADER_BYTES)
            if len(head) < HEADER_BYTES:
                break
            magic, kind, _, length, crc = HEADER.unpack_from(head)
            if magic != MAGIC or kind not in (ROWS, BATCH):
                return Chunk(records, offset, True)
            payload = f.read(length)
            if len(payload) < length:
                break
            tail = head[HEADER.size :]
            if zlib.crc32(tail, zlib.crc32(payload)) != crc:
                return Chunk(records, offset, True)
            n_rows, seq, ts_us = TAIL.unpack(tail)
            records.append(Record(f"{instance}.{seq}", kind, n_rows, ts_us, payload))
            offset += HEADER_BYTES + length
            rows += n_rows
            nbytes += HEADER_BYTES + length
    return Chunk(records, offset, False)


def scan(path: Path) -> tuple[int, int | None]:
    """(rows, first record's ts_us) of a segment, from its headers alone."""
    rows, first = 0, None
    with contextlib.suppress(FileNotFoundError), path.open("rb") as f:
        while True:
            head = f.read(HEADER_BYTES)
            if len(head) < HEADER_BYTES:
                break
            magic, _, _, length, _ = HEADER.unpack_from(head)
            if magic != MAGIC:
                break
            n_rows, _, ts_us = TAIL.unpack_from(head, HEADER.size)
            rows += n_rows
            first = ts_us if first is None else first
            f.seek(length, os.SEEK_CUR)
    return rows, first
