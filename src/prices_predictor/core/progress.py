"""Progress of long work, reported by the code doing it and shown by whoever runs it.

Library code (pipeline steps, tuning, batch scoring, the feature store) reports stages and
counts to ``current()``; it never prints. A command installs a reporter for its run with
``reporting(...)``: a live display on a terminal, plain lines on stderr otherwise, nothing
with ``--quiet``. The default reporter is silent, so the API and tests see nothing.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Protocol


class Reporter(Protocol):
    def started(self, stage: str) -> None: ...

    def advanced(self, stage: str, done: int, total: int | None, note: str = "") -> None: ...

    def finished(self, stage: str, seconds: float, note: str = "") -> None: ...


class Silent:
    def started(self, stage: str) -> None:
        pass

    def advanced(self, stage: str, done: int, total: int | None, note: str = "") -> None:
        pass

    def finished(self, stage: str, seconds: float, note: str = "") -> None:
        pass


_current: Reporter = Silent()


def current() -> Reporter:
    return _current


@contextlib.contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Install ``reporter`` for the duration of a command."""
    global _current
    before, _current = _current, reporter
    try:
        yield reporter
    finally:
        _current = before


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Report ``name`` as started, then finished with its wall time (also when it fails)."""
    r = current()
    r.started(name)
    t0 = time.perf_counter()
    ok = False
    try:
        yield
        ok = True
    finally:
        r.finished(name, time.perf_counter() - t0, "" if ok else "failed")
