"""One job, as a worker runs it: ``prices-predictor predict`` on the upload, with the model
version fixed at submission, progress after every slice, and a result that is committed once.

Exactly once: a killed execution leaves no result (the file is written beside its name and
renamed last), so its re-run scores again; an execution that finds the result already there
(killed after the rename, before rq heard of it) commits nothing. Every start and the commit
are appended to the job's event list.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from redis import Redis
from rq import get_current_job
from rq.job import Job
from rq.timeouts import JobTimeoutException

from prices_predictor.batch.score import score_file
from prices_predictor.core.errors import DataError, UserError
from prices_predictor.core.settings import Settings, get_settings
from prices_predictor.jobs.files import JobFiles, job_files
from prices_predictor.jobs.queue import DURATION_BUCKETS, STATS_KEY, cancel_key, events_key
from prices_predictor.tracking.loading import LoadedModel, load_from_bundle, load_version

log = logging.getLogger("prices_predictor.jobs.task")

PROGRESS_EVERY_S = 0.25  # progress writes at most this often (and at the first and last slice)
MODELS_KEPT = 2  # model versions a worker keeps loaded (the champion and its successor)

_models: dict[tuple[str, str], LoadedModel] = {}
_models_lock = threading.Lock()


class JobCancelled(Exception):
    """The job's cancel flag was seen between two slices."""


def model_for(s: Settings, source: str, version: str) -> LoadedModel:
    """The model a job was submitted with, loaded once per worker process."""
    key = (source, version)
    with _models_lock:
        loaded = _models.get(key)
        if loaded is None:
            loaded = _load(s, source, version)
            loaded.model.warm_kernels()
            while len(_models) >= MODELS_KEPT:
                _models.pop(next(iter(_models)))
            _models[key] = loaded
        return loaded


def _load(s: Settings, source: str, version: str) -> LoadedModel:
    if source == "registry":
        return load_version(s, version)
    loaded = load_from_bundle(Path(source))
    if loaded.version != version:
        raise DataError(
            f"the bundle {source} now holds version {loaded.version}; this job was submitted "
            f"for version {version}: submit it again"
        )
    return loaded


def preload(s: Settings, loaded: LoadedModel) -> None:
    """Keep a model a worker loaded at start (the served one) for the jobs that use it."""
    source = "registry" if not s.model_uri else str(s.model_uri)
    loaded.model.warm_kernels()
    with _models_lock:
        _models[(source, loaded.version)] = loaded


def run(job_id: str) -> dict[str, Any]:
    """Entry point rq calls (``prices_predictor.jobs.task.run``)."""
    job = get_current_job()
    if job is None:  # pragma: no cover - only rq calls this
        raise RuntimeError("run() is called by a worker for a queued job")
    s = get_settings()
    r: Redis = job.connection
    files = job_files(s)
    meta = job.meta
    meta["attempts"] = int(meta.get("attempts", 0)) + 1
    meta.pop("error", None)
    job.save_meta()
    _event(
        r, job, s, f"start attempt={meta['attempts']} worker={socket.gethostname()}:{os.getpid()}"
    )
    if files.has_result(job_id):
        _event(r, job, s, "skip: result already committed")
        return {"rows": meta.get("rows_total")}
    files.clear_partial(job_id)
    try:
        return _score(job, s, files, r)
    except (UserError, JobCancelled, JobTimeoutException) as exc:
        # bad input, a changed bundle, a cancel or PP_JOB_TIMEOUT_S: running again won't help
        # (rq reads this attribute of the same Job object when it handles the failure)
        job.retries_left = 0
        if isinstance(exc, UserError):
            meta["error"] = str(exc)
            job.save_meta()
        raise


def _score(job: Job, s: Settings, files: JobFiles, r: Redis) -> dict[str, Any]:
    meta = job.meta
    started = time.perf_counter()
    loaded = model_for(s, str(meta["model_source"]), str(meta["model_version"]))
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if r.exists(cancel_key(job.id)):
            raise JobCancelled(f"job {job.id} cancelled")
        now = time.perf_counter()
        if done in (0, total) or now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            meta["rows_total"], meta["rows_done"] = total, done
            job.save_meta()

    with (
        files.local_input(job.id, str(meta["input"])) as path,
        files.result_target(job.id) as out,
    ):
        try:
            res = score_file(loaded.model, str(path), out, None, progress)
        except DataError as exc:  # name the file as the client did, not where it is kept
            name = str(meta.get("file") or path.name)
            raise DataError(str(exc).replace(str(path), name)) from None
    _event(r, job, s, f"commit rows={res.rows} model=v{loaded.version}")
    elapsed = time.perf_counter() - started
    meta["rows_total"] = meta["rows_done"] = res.rows
    meta["seconds"] = {**{k: round(v, 3) for k, v in res.seconds.items()}, "total": elapsed}
    meta["findings"] = res.warnings()
    if res.ignored:
        meta["findings"].append(f"ignored columns: {', '.join(res.ignored)}")
    job.save_meta()
    _record(r, res.rows, elapsed)
    return {"rows": res.rows}


def _event(r: Redis, job: Job, s: Settings, text: str) -> None:
    pipe = r.pipeline(transaction=False)
    pipe.rpush(events_key(job.id), f"{text} at={time.time():.3f}")
    pipe.expire(events_key(job.id), s.job_ttl_s + s.job_timeout_s)
    pipe.execute()


def _record(r: Redis, rows: int, seconds: float) -> None:
    """The workers' totals, read by the API's /metrics."""
    pipe = r.pipeline(transaction=False)
    pipe.hincrby(STATS_KEY, "jobs", 1)
    pipe.hincrby(STATS_KEY, "rows", rows)
    pipe.hincrbyfloat(STATS_KEY, "seconds", seconds)
    pipe.hset(STATS_KEY, "last_rows_per_s", str(rows / max(seconds, 1e-9)))
    for b in DURATION_BUCKETS:
        if seconds <= b:
            pipe.hincrby(STATS_KEY, f"le:{b}", 1)
    pipe.execute()
