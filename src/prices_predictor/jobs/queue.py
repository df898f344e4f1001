"""Jobs on Redis through rq: submit, status, cancel, delete, and the figures ``/metrics`` shows.

rq keeps the job (its state, timings and ``meta``) and the queue; this module adds three keys
of its own per job: a cancel flag (the API never writes a running job's ``meta``: the worker
rewrites it whole at every progress step), an event list (each execution's start and the one
commit, the audit trail of "exactly once") and one hash of totals for the metrics.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError
from redis.retry import Retry as RedisRetry
from rq import Queue, Retry
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import (
    CanceledJobRegistry,
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from prices_predictor.core.errors import UserError
from prices_predictor.core.settings import Settings

TASK = "prices_predictor.jobs.task.run"
ENDED = frozenset({"finished", "failed", "cancelled"})
RETRIES = 2  # a job whose worker died is run again at most this often
# duration buckets (s): a 1,000-row file takes well under a second, 10 million rows minutes
DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)
STATS_KEY = "pp:jobs:stats"

_RQ_STATE = {
    JobStatus.CREATED: "queued",
    JobStatus.QUEUED: "queued",
    JobStatus.SCHEDULED: "queued",
    JobStatus.DEFERRED: "queued",
    JobStatus.STARTED: "running",
    JobStatus.FINISHED: "finished",
    JobStatus.FAILED: "failed",
    JobStatus.STOPPED: "cancelled",
    JobStatus.CANCELED: "cancelled",
}


class QueueUnavailable(Exception):
    """Redis cannot be reached (or answers with an error): job routes answer 503."""


class UnknownJob(UserError):
    """No job with this id (never submitted, deleted, or expired)."""


def cancel_key(job_id: str) -> str:
    return f"pp:jobs:cancel:{job_id}"


def events_key(job_id: str) -> str:
    return f"pp:jobs:events:{job_id}"


def connect(url: str, *, fail_fast: bool = True) -> Redis:
    """A client for ``url``. Fail-fast (the API): a down Redis is an error in ~0.1 s and a
    hung one in ~4 s, not after redis-py's default ten retries; the same client reconnects
    by itself once Redis is back. Workers block on the queue and use the patient defaults."""
    if not fail_fast:
        return Redis.from_url(url, health_check_interval=15)
    return Redis.from_url(
        url,
        socket_connect_timeout=0.5,
        socket_timeout=2.0,
        retry=RedisRetry(ExponentialBackoff(cap=0.2, base=0.05), 1),
        health_check_interval=15,
    )


@contextlib.contextmanager
def available(url: str) -> Iterator[None]:
    """Redis errors -> QueueUnavailable, naming the URL (without its password)."""
    try:
        yield
    except RedisError as exc:
        where = url.split("@")[-1]
        raise QueueUnavailable(f"job queue unavailable (Redis at {where}): {exc}") from exc


class JobQueue:
    """The API's (and the CLI's) side of the queue."""

    def __init__(self, s: Settings, redis: Redis | None = None) -> None:
        self.url = s.redis_url
        self.redis = redis if redis is not None else connect(s.redis_url)
        self.queue = Queue(s.job_queue, connection=self.redis)
        self.ttl = s.job_ttl_s
        self.timeout = s.job_timeout_s

    def ping(self) -> None:
        with available(self.url):
            self.redis.ping()

    def submit(self, job_id: str, meta: dict[str, Any]) -> None:
        """Enqueue job ``job_id`` (its upload is already in place)."""
        with available(self.url):
            self.queue.enqueue_call(
                TASK,
                args=(job_id,),
                job_id=job_id,
                meta={**meta, "rows_done": 0, "attempts": 0},
                timeout=self.timeout,
                ttl=self.ttl,  # waiting longer than this in the queue: expired
                result_ttl=self.ttl,
                failure_ttl=self.ttl,
                retry=Retry(max=RETRIES),
                description=f"price {meta.get('file', job_id)}",
            )

    def _job(self, job_id: str) -> Job:
        try:
            return Job.fetch(job_id, connection=self.redis)
        except (NoSuchJobError, ValueError):  # ValueError: not a possible job id
            raise UnknownJob(f"no job '{job_id}' (unknown, deleted or expired)") from None

    def status(self, job_id: str) -> dict[str, Any]:
        with available(self.url):
            job = self._job(job_id)
            cancel, ttl, events = self._extras(job)
        return describe(job, cancel, ttl, events)

    def _extras(self, job: Job) -> tuple[bool, int, list[str]]:
        pipe = self.redis.pipeline(transaction=False)
        pipe.exists(cancel_key(job.id))
        pipe.ttl(job.key)
        pipe.lrange(events_key(job.id), 0, -1)
        cancel, ttl, events = pipe.execute()
        return bool(cancel), int(ttl), [e.decode() for e in events]

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Stop a queued or running job; a running one stops at its next slice."""
        with available(self.url):
            job = self._job(job_id)
            state = describe(job, False, -1, [])["state"]
            if state in ENDED:
                return self.status(job_id)
            self.redis.set(cancel_key(job_id), b"1", ex=self.ttl)
            if state == "queued":
                with contextlib.suppress(InvalidJobOperation):  # started meanwhile: flag does it
                    job.cancel()
            return self.status(job_id)

    def delete(self, job_id: str) -> None:
        """Forget an ended job (its files are the caller's to remove)."""
        with available(self.url):
            job = self._job(job_id)
            job.delete()
            self.redis.delete(cancel_key(job_id), events_key(job_id))

    def alive(self, job_ids: list[str]) -> list[bool]:
        with available(self.url):
            pipe = self.redis.pipeline(transaction=False)
            for job_id in job_ids:
                pipe.exists(Job.key_for(job_id))
            return [bool(x) for x in pipe.execute()]

    def stats(self) -> dict[str, Any]:
        """Queue length, jobs by state, workers and the workers' totals, in one round trip
        that moves nothing (rq's ``count`` would also clean registries up)."""
        q, r = self.queue, self.redis
        registries = {
            "running": StartedJobRegistry(queue=q),
            "finished": FinishedJobRegistry(queue=q),
            "failed": FailedJobRegistry(queue=q),
            "cancelled": CanceledJobRegistry(queue=q),
            "scheduled": ScheduledJobRegistry(queue=q),
            "deferred": DeferredJobRegistry(queue=q),
        }
        with available(self.url):
            pipe = r.pipeline(transaction=False)
            pipe.llen(q.key)
            for reg in registries.values():
                pipe.zcard(reg.key)
            pipe.zcount(registries["running"].key, 0, time.time())  # heartbeat overdue
            pipe.scard(f"rq:workers:{q.name}")
            pipe.hgetall(STATS_KEY)
            out = pipe.execute()
        counts = dict(zip(registries, out[1 : 1 + len(registries)], strict=True))
        n = len(registries)
        totals = {k.decode(): float(v) for k, v in out[3 + n].items()}
        return {
            "queued": int(out[0]) + counts.pop("scheduled") + counts.pop("deferred"),
            **{k: int(v) for k, v in counts.items()},
            "abandoned": int(out[1 + n]),
            "workers": int(out[2 + n]),
            "totals": totals,
        }


def describe(job: Job, cancel: bool, ttl: int, events: list[str]) -> dict[str, Any]:
    """What a client sees of a job."""
    rq_state = job.get_status(refresh=False)
    state = _RQ_STATE.get(rq_state, "queued") if rq_state is not None else "queued"
    if state == "failed" and cancel:
        state = "cancelled"  # stopped by its flag between two slices
    meta = job.meta
    out: dict[str, Any] = {
        "id": job.id,
        "state": state,
        "file": meta.get("file"),
        "rows_done": int(meta.get("rows_done", 0)),
        "rows_total": meta.get("rows_total"),
        "model": {"name": meta.get("model_name"), "version": meta.get("model_version")},
        "submitted_at": _iso(job.enqueued_at or job.created_at),
        "started_at": _iso(job.started_at) if state != "queued" else None,
        "ended_at": _iso(job.ended_at) if state in ENDED else None,
        "seconds": meta.get("seconds", {}),
        "attempts": int(meta.get("attempts", 0)),
        "cancel_requested": cancel and state not in ENDED,
        "findings": meta.get("findings", []),
        "error": meta.get("error") if state == "failed" else None,
        "commits": sum(1 for e in events if e.startswith("commit")),
        "history": events,  # each execution's start, the commit (the audit of "exactly once")
    }
    if state == "failed" and not out["error"]:
        out["error"] = _last_line(job.exc_info)
    if ttl > 0:
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl)
        out["expires_at"] = expires.isoformat(timespec="seconds")
    return out


def _iso(t: dt.datetime | None) -> str | None:
    if t is None:
        return None
    if t.tzinfo is None:  # rq stores UTC without a zone
        t = t.replace(tzinfo=dt.UTC)
    return t.isoformat(timespec="milliseconds")


def _last_line(text: str | None) -> str | None:
    if not text:
        return None
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else None
