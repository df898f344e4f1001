"""The worker process: rq's SimpleWorker (no fork per job) with a heartbeat thread.

Why no fork: the model is loaded once and stays warm, and forking a process that has loaded
OpenMP libraries (LightGBM, XGBoost) can hang the child's first multi-threaded predict.
Stock SimpleWorker does not heartbeat during a job, so a worker killed mid-job would be
noticed only after job_timeout + 60 s; here a thread keeps the job's entry alive every
``PP_JOB_HEARTBEAT_S`` and the entry lapses ``PP_JOB_GRACE_S`` after the last beat, when any
worker's maintenance queues the job again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.job import Job

from prices_predictor.core.settings import Settings
from prices_predictor.jobs.files import job_files
from prices_predictor.jobs.queue import connect
from prices_predictor.jobs.task import preload
from prices_predictor.tracking.loading import served_model

log = logging.getLogger("prices_predictor.jobs.worker")

IDLE_BLOCK_S = 5  # an idle worker wakes this often for maintenance (rq blocks worker_ttl - 15)
SWEEP_EVERY_S = 60.0


class JobWorker(SimpleWorker):
    """SimpleWorker + heartbeat thread + a short, configurable grace."""

    grace_s = 10
    last_sweep = 0.0
    settings: Settings | None = None

    def get_heartbeat_ttl(self, job: Job) -> int:
        if job.timeout and job.timeout > 0:
            left = job.timeout - self.current_job_working_time
            return int(min(left, self.job_monitoring_interval)) + self.grace_s
        return int(self.job_monitoring_interval) + self.grace_s

    def execute_job(self, job: Job, queue: Queue) -> Any:
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.job_monitoring_interval):
                try:
                    if self.execution is not None and self.get_current_job_id() == job.id:
                        self.maintain_heartbeats(job)
                except Exception:  # a missed beat must not end the job
                    log.exception("heartbeat failed")

        thread = threading.Thread(target=beat, name="pp-heartbeat", daemon=True)
        thread.start()
        try:
            return super().execute_job(job, queue)
        finally:
            stop.set()
            thread.join()
            self.sweep()

    def sweep(self) -> None:
        """Remove files of expired jobs (at most once a minute)."""
        if self.settings is None or time.monotonic() - self.last_sweep < SWEEP_EVERY_S:
            return
        self.last_sweep = time.monotonic()
        try:
            files = job_files(self.settings)

            def alive(ids: list[str]) -> list[bool]:
                pipe = self.connection.pipeline(transaction=False)
                for job_id in ids:
                    pipe.exists(Job.key_for(job_id))
                return [bool(x) for x in pipe.execute()]

            files.sweep(alive)
        except (OSError, RedisError) as exc:
            log.warning("sweeping expired job files failed", extra={"error": str(exc)})


def wait_for_redis(r: Redis, url: str, stop_after_s: float | None = None) -> None:
    """Block until Redis answers (a worker started before Redis waits, it does not crash)."""
    delay, start = 0.5, time.monotonic()
    while True:
        try:
            r.ping()
            return
        except RedisError as exc:
            if stop_after_s is not None and time.monotonic() - start > stop_after_s:
                raise
            log.warning("waiting for Redis", extra={"redis": url.split("@")[-1], "error": str(exc)})
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def run_worker(s: Settings, queues: list[str], burst: bool, warm: bool = True) -> bool:
    """Work until stopped (or, ``burst``, until the queues are empty)."""
    r = connect(s.redis_url, fail_fast=False)
    wait_for_redis(r, s.redis_url)
    job_files(s).prepare()
    if warm:
        try:  # the served model is the likeliest one; jobs load any other version they name
            preload(s, served_model(s))
        except Exception as exc:
            log.warning("no served model to preload", extra={"error": str(exc)})
    worker = JobWorker(
        queues,
        connection=r,
        worker_ttl=IDLE_BLOCK_S + 15,
        maintenance_interval=s.job_grace_s,
        job_monitoring_interval=s.job_heartbeat_s,
    )
    worker.grace_s = s.job_grace_s
    worker.settings = s
    return bool(worker.work(burst=burst, logging_level=s.log_level))
