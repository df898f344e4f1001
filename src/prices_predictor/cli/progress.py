"""How a command shows progress: rich on a terminal, a line per event on stderr otherwise
(testable, and readable in CI logs), nothing with ``--quiet``."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from prices_predictor.cli.output import err_console
from prices_predictor.core.progress import Reporter, Silent, reporting

PLAIN_EVERY_S = 2.0  # plain lines for counts: at most this often per stage (and the last)


class Lines:
    """``[progress] stage: ...`` lines on stderr."""

    def __init__(self, command: str) -> None:
        self.command = command
        self._last: dict[str, float] = {}

    def _say(self, text: str) -> None:
        print(f"[{self.command}] {text}", file=sys.stderr, flush=True)

    def started(self, stage: str) -> None:
        self._say(f"{stage} ...")

    def advanced(self, stage: str, done: int, total: int | None, note: str = "") -> None:
        now = time.monotonic()
        final = total is not None and done >= total
        if not final and now - self._last.get(stage, 0.0) < PLAIN_EVERY_S:
            return
        self._last[stage] = now
        count = f"{done:,}/{total:,}" if total is not None else f"{done:,}"
        self._say(f"{stage}: {count}{'; ' + note if note else ''}")

    def finished(self, stage: str, seconds: float, note: str = "") -> None:
        if note == "failed":
            self._say(f"{stage} failed after {seconds:.1f} s")
        else:
            self._say(f"{stage} done in {seconds:.1f} s{': ' + note if note else ''}")


class Live:
    """A rich progress display on the terminal (stderr)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._tasks: dict[str, TaskID] = {}

    def _task(self, stage: str) -> TaskID:
        if stage not in self._tasks:
            self._tasks[stage] = self.progress.add_task(stage, total=None, note="")
        return self._tasks[stage]

    def started(self, stage: str) -> None:
        self._task(stage)

    def advanced(self, stage: str, done: int, total: int | None, note: str = "") -> None:
        self.progress.update(self._task(stage), completed=done, total=total, note=note)

    def finished(self, stage: str, seconds: float, note: str = "") -> None:
        task = self._task(stage)
        total = self.progress.tasks[task].total or 1
        self.progress.update(
            task, completed=total, total=total, note=f"{note or 'done'} in {seconds:.1f} s"
        )


@contextlib.contextmanager
def shown(command: str, quiet: bool = False) -> Iterator[Reporter]:
    """The reporter for one command's run, installed for library code to report to."""
    reporter: Any
    if quiet:
        with reporting(Silent()) as reporter:
            yield reporter
        return
    if not sys.stderr.isatty():
        with reporting(Lines(command)) as reporter:
            yield reporter
        return
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
    )
    bar = Progress(*columns, console=err_console, transient=False)
    with bar, reporting(Live(bar)) as reporter:
        yield reporter
