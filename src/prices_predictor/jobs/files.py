"""Where a job's upload and result live: ``<root>/<job id>/input.<ext>`` and ``result.parquet``.

The root is a directory or an fsspec URL (``s3://bucket/jobs``); the API and every worker must
see the same one. A result exists whole or not at all: on a local disk it is written beside
its final name and renamed; on an object store one PUT makes it appear at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem

from prices_predictor.core.errors import UserError
from prices_predictor.core.settings import Settings

log = logging.getLogger("prices_predictor.jobs.files")

RESULT = "result.parquet"
# a directory without a live job is kept this long: its submission may still be enqueueing
MIN_ORPHAN_AGE_S = 300.0


class JobFiles:
    """Uploads and results of jobs, on a local disk or any fsspec file system."""

    def __init__(self, root: str, staging: Path) -> None:
        try:
            self.fs, base = fsspec.core.url_to_fs(root)
        except (ImportError, ValueError) as exc:  # unknown protocol or its package missing
            raise UserError(f"PP_JOBS_DIR={root}: {exc}") from None
        self.root = root
        self.base = base.rstrip("/")
        self.local = isinstance(self.fs, LocalFileSystem)
        self.staging = staging  # local scratch for remote roots

    def path(self, job_id: str, name: str = "") -> str:
        return f"{self.base}/{job_id}" + (f"/{name}" if name else "")

    def prepare(self) -> None:
        """Create the root (local) so that the first upload does not race for it."""
        if self.local:
            Path(self.base).mkdir(parents=True, exist_ok=True)
        self.staging.mkdir(parents=True, exist_ok=True)

    def staging_file(self, job_id: str) -> Path:
        """A local file to receive an upload into; on a local root it is already in the
        job's directory, so publishing is a rename."""
        folder = Path(self.path(job_id)) if self.local else self.staging / job_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder / ".upload.tmp"

    def publish_input(self, job_id: str, staged: Path, suffix: str) -> str:
        """Move a checked upload to its place; returns its name in the job's directory."""
        name = f"input{suffix}"
        if self.local:
            os.replace(staged, Path(self.path(job_id, name)))
        else:
            try:
                self.fs.put_file(str(staged), self.path(job_id, name))
            finally:
                shutil.rmtree(staged.parent, ignore_errors=True)
        return name

    def discard_staging(self, job_id: str) -> None:
        if self.local:
            shutil.rmtree(self.path(job_id), ignore_errors=True)
        else:
            shutil.rmtree(self.staging / job_id, ignore_errors=True)

    @contextlib.contextmanager
    def local_input(self, job_id: str, name: str) -> Iterator[Path]:
        """The upload as a local file (downloaded first from a remote root)."""
        if self.local:
            yield Path(self.path(job_id, name))
            return
        with tempfile.TemporaryDirectory(dir=self.staging) as tmp:
            local = Path(tmp) / name
            self.fs.get_file(self.path(job_id, name), str(local))
            yield local

    @contextlib.contextmanager
    def result_target(self, job_id: str) -> Iterator[Path]:
        """A local path to write the result to; on leaving the block it is the job's result
        (a local root: the scorer writes beside it and renames; remote: one upload)."""
        if self.local:
            yield Path(self.path(job_id, RESULT))
            return
        with tempfile.TemporaryDirectory(dir=self.staging) as tmp:
            local = Path(tmp) / RESULT
            yield local
            self.fs.put_file(str(local), self.path(job_id, RESULT))

    def clear_partial(self, job_id: str) -> None:
        """Temporary files of an execution that was killed (a local root only: an object
        store never shows a half-written object)."""
        if self.local:
            for p in Path(self.path(job_id)).glob(f".{RESULT}.*.tmp"):
                p.unlink(missing_ok=True)

    def has_result(self, job_id: str) -> bool:
        return bool(self.fs.exists(self.path(job_id, RESULT)))

    @contextlib.contextmanager
    def open_result(self, job_id: str) -> Iterator[Path]:
        """The result as a local file (downloaded from a remote root)."""
        with self.local_input(job_id, RESULT) as path:
            yield path

    def result_size(self, job_id: str) -> int:
        return int(self.fs.size(self.path(job_id, RESULT)))

    def remove(self, job_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self.path(job_id), recursive=True)

    def sweep(self, alive: Callable[[list[str]], list[bool]]) -> int:
        """Remove the directories of jobs that no longer exist (expired or deleted); returns
        how many. ``alive`` answers for a list of job ids."""
        try:
            entries = [e for e in self.fs.ls(self.base, detail=True) if e["type"] == "directory"]
        except FileNotFoundError:
            return 0
        ids = [str(e["name"]).rstrip("/").rsplit("/", 1)[-1] for e in entries]
        if not ids:
            return 0
        removed = 0
        for job_id, live in zip(ids, alive(ids), strict=True):
            if live or not self._old(job_id):
                continue
            self.remove(job_id)
            removed += 1
        if removed:
            log.info("expired job files removed", extra={"jobs": removed})
        return removed

    def _old(self, job_id: str) -> bool:
        try:
            modified = self.fs.modified(self.path(job_id))
        except (NotImplementedError, FileNotFoundError, OSError):
            return False  # cannot tell: keep it
        return time.time() - modified.timestamp() > MIN_ORPHAN_AGE_S


def job_files(s: Settings) -> JobFiles:
    """The job files of these settings (PP_JOBS_DIR, staging under PP_HOME)."""
    return JobFiles(s.jobs_root, s.home / "jobs-staging")
