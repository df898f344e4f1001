"""Batch jobs: upload a file of houses, follow it, fetch the prices, cancel or delete it."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, ORJSONResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from prices_predictor.core.errors import DataError
from prices_predictor.jobs.files import JobFiles
from prices_predictor.jobs.intake import check_upload
from prices_predictor.jobs.queue import ENDED, JobQueue, QueueUnavailable, UnknownJob
from prices_predictor.serving.deps import FilesDep, HolderDep, QueueDep, SettingsDep

PATH = "/v1/jobs"
RAW_TYPES = (
    "",
    "text/csv",
    "application/csv",
    "text/plain",
    "text/tab-separated-values",
    "application/gzip",  # compressed CSV: the content says which codec
    "application/x-gzip",
    "application/x-bzip2",
    "application/x-xz",
    "application/octet-stream",
    "application/vnd.apache.parquet",
    "application/x-parquet",
    "application/parquet",
    "application/zip",
    "application/x-zip-compressed",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel.sheet.macroenabled.12",
)
WRITE_BLOCK = 4 << 20  # upload bytes gathered before one write off the event loop
CSV_BATCH_ROWS = 100_000
SWEEP_EVERY_S = 60.0
MAX_FORM_FIELDS = 64  # other form fields are ignored; a flood of them is refused

router = APIRouter(
    prefix=PATH,
    tags=["jobs"],
    responses={
        503: {"description": "The job queue (Redis) or the model is unavailable"},
    },
)


# ids are what submit hands out (URL-safe base64); anything else cannot name a job
JobId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


def _unavailable(exc: QueueUnavailable) -> HTTPException:
    return HTTPException(503, detail=str(exc), headers={"Retry-After": "5"})


def _bad_file(
    message: str, rule: str = "a CSV, Parquet, ZIP or Excel table of houses"
) -> HTTPException:
    return HTTPException(422, detail=[{"field": "file", "rule": rule, "message": message}])


async def _call(fn: Any, *args: Any) -> Any:
    try:
        return await run_in_threadpool(fn, *args)
    except QueueUnavailable as exc:
        raise _unavailable(exc) from None
    except UnknownJob as exc:
        raise HTTPException(404, detail=str(exc)) from None


_BINARY = {"schema": {"type": "string", "format": "binary"}}
_UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": _BINARY,
            "application/vnd.apache.parquet": _BINARY,
            "application/zip": _BINARY,
            "application/gzip": _BINARY,
            "application/octet-stream": _BINARY,
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown, deleted or expired job"}
}


@router.post(
    "",
    status_code=202,
    openapi_extra=_UPLOAD,
    responses={
        202: {"description": "Queued: the job's id, its links and the model it will use"},
        413: {"description": "Larger than PP_MAX_JOB_BYTES"},
        415: {"description": "Not a file type a job takes"},
        422: {"description": "Not a table of houses for this model (the field 'file')"},
    },
)
async def submit(
    request: Request, queue: QueueDep, files: FilesDep, holder: HolderDep, s: SettingsDep
) -> ORJSONResponse:
    """Take a CSV, Parquet, ZIP or Excel file (multipart field ``file``, or the raw body with its
    content type) up to PP_MAX_JOB_BYTES; 202 with the job's id and links."""
    loaded = holder.get()
    if loaded is None:
        raise HTTPException(503, detail="no model loaded yet", headers={"Retry-After": "5"})
    await _call(queue.ping)  # before reading an upload that could not be queued
    job_id = secrets.token_urlsafe(18)
    staged = files.staging_file(job_id)
    try:
        name = await _receive(request, staged)
        upload = await run_in_threadpool(check_upload, staged, name, loaded.model.spec)
        input_name = await run_in_threadpool(files.publish_input, job_id, staged, upload.suffix)
        meta = {
            "file": name,
            "input": input_name,
            "rows_total": upload.rows,
            "model_name": loaded.name,
            "model_version": loaded.version,
            "model_source": "registry" if not s.model_uri else loaded.source,
        }
        await _call(queue.submit, job_id, meta)
    except DataError as exc:
        files.discard_staging(job_id)
        raise _bad_file(str(exc)) from None
    except OSError as exc:  # the jobs directory is full or unwritable: not the client's fault
        files.discard_staging(job_id)
        await run_in_threadpool(files.remove, job_id)
        raise HTTPException(
            503, detail=f"cannot store the upload: {exc}", headers={"Retry-After": "30"}
        ) from None
    except BaseException:
        files.discard_staging(job_id)
        await run_in_threadpool(files.remove, job_id)
        raise
    _maybe_sweep(request, queue, files)
    link = f"{PATH}/{job_id}"
    body = {
        "id": job_id,
        "state": "queued",
        "file": name,
        "rows_total": upload.rows,
        "model": {"name": loaded.name, "version": loaded.version},
        "links": {"self": link, "result": f"{link}/result"},
    }
    return ORJSONResponse(body, status_code=202, headers={"Location": link})


async def _receive(request: Request, staged: Path) -> str:
    """Write the upload to ``staged``; returns the file's name as the client gave it."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS)
        except StarletteHTTPException as exc:  # malformed multipart, too many parts
            raise _bad_file(str(exc.detail), "multipart/form-data with one 'file' part") from None
        try:
            part = form.get("file")
            if not isinstance(part, UploadFile):
                raise _bad_file("multipart body without a 'file' part", "field 'file' required")
            await run_in_threadpool(_copy, part, staged)
            return Path(part.filename or "upload").name or "upload"
        finally:
            await form.close()
    if ctype not in RAW_TYPES:
        raise HTTPException(
            415,
            detail=[
                {
                    "field": "content-type",
                    "rule": "text/csv (or gzip, bzip2, xz of one), application/vnd.apache."
                    "parquet, application/zip, an Excel workbook's type or multipart/form-data",
                    "message": f"a job takes a file of houses, got '{ctype}'",
                }
            ],
        )
    buf = bytearray()
    with staged.open("wb") as fh:
        async for chunk in request.stream():
            buf += chunk
            if len(buf) >= WRITE_BLOCK:
                await run_in_threadpool(fh.write, bytes(buf))
                buf.clear()
        await run_in_threadpool(fh.write, bytes(buf))
    return _filename(request.headers.get("content-disposition", "")) or "upload"


def _copy(part: UploadFile, staged: Path) -> None:
    part.file.seek(0)
    with staged.open("wb") as fh:
        while block := part.file.read(WRITE_BLOCK):
            fh.write(block)


def _filename(disposition: str) -> str:
    for item in disposition.split(";"):
        key, _, value = item.strip().partition("=")
        if key.lower() == "filename" and value:
            return Path(value.strip().strip('"')).name
    return ""


def _maybe_sweep(request: Request, queue: JobQueue, files: JobFiles) -> None:
    state = request.app.state
    now = time.monotonic()
    if now - getattr(state, "jobs_swept_at", -SWEEP_EVERY_S) < SWEEP_EVERY_S:
        return
    state.jobs_swept_at = now

    def sweep() -> None:
        with contextlib.suppress(OSError, QueueUnavailable):  # the next submission retries
            files.sweep(queue.alive)

    asyncio.get_running_loop().run_in_executor(None, sweep)


@router.get("/{job_id}", responses=_NOT_FOUND)
async def status(job_id: JobId, queue: QueueDep) -> dict[str, Any]:
    """State, rows done/total, timings, findings and the model version of a job."""
    out: dict[str, Any] = await _call(queue.status, job_id)
    return out


@router.get(
    "/{job_id}/result",
    response_class=Response,
    responses={
        200: {
            "content": {"application/vnd.apache.parquet": {}, "text/csv": {}},
            "description": "The prices: the input's id columns, price, price_low, price_high",
        },
        404: {"description": "Unknown, deleted or expired job"},
        409: {"description": "The job has not finished"},
    },
)
async def result(
    job_id: JobId,
    request: Request,
    queue: QueueDep,
    files: FilesDep,
    format: Annotated[str | None, Query(pattern="^(csv|parquet)$")] = None,
) -> Response:
    """The prices, as Parquet (default) or CSV (``?format=csv`` or ``Accept: text/csv``)."""
    job = await _call(queue.status, job_id)
    if job["state"] != "finished":
        raise HTTPException(
            409,
            detail={
                "message": f"job {job_id} is {job['state']}: no result"
                + ("" if job["state"] in ENDED else " yet"),
                "state": job["state"],
                "rows_done": job["rows_done"],
                "rows_total": job["rows_total"],
            },
        )
    fmt = format or _from_accept(request.headers.get("accept", ""))
    stem = Path(str(job.get("file") or job_id)).stem
    if not await run_in_threadpool(files.has_result, job_id):
        raise HTTPException(404, detail=f"the result of job {job_id} is gone (expired)")
    if fmt == "csv":
        return StreamingResponse(
            _csv(files, job_id),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{stem}-prices.csv"'},
        )
    if files.local:
        path = Path(files.path(job_id, "result.parquet"))
        return FileResponse(
            path,
            media_type="application/vnd.apache.parquet",
            filename=f"{stem}-prices.parquet",
        )
    cm = files.open_result(job_id)
    path = await run_in_threadpool(cm.__enter__)
    return FileResponse(
        path,
        media_type="application/vnd.apache.parquet",
        filename=f"{stem}-prices.parquet",
        background=BackgroundTask(cm.__exit__, None, None, None),
    )


def _from_accept(accept: str) -> str:
    accept = accept.lower()
    return "csv" if "text/csv" in accept and "parquet" not in accept else "parquet"


def _csv(files: JobFiles, job_id: str) -> Iterator[bytes]:
    """The Parquet result as CSV, a slice at a time, formatted as ``predict`` writes CSV."""
    import pyarrow.parquet as pq  # lazy: pyarrow only for CSV results

    with files.open_result(job_id) as path:
        pf = pq.ParquetFile(path)
        first = True
        for batch in pf.iter_batches(batch_size=CSV_BATCH_ROWS):
            frame = batch.to_pandas()
            yield frame.to_csv(index=False, header=first, float_format="%.2f").encode()
            first = False


@router.delete(
    "/{job_id}",
    responses={
        200: {"description": "An ended job deleted with its files"},
        202: {"description": "Cancelled (queued) or cancelling (running)"},
        **_NOT_FOUND,
    },
)
async def cancel_or_delete(job_id: JobId, queue: QueueDep, files: FilesDep) -> ORJSONResponse:
    """A queued or running job is cancelled (202; a running one stops at its next slice).
    An ended job is deleted with its upload and result (200)."""
    job = await _call(queue.status, job_id)
    if job["state"] not in ENDED:
        after = await _call(queue.cancel, job_id)
        return ORJSONResponse(after, status_code=202)
    await _call(queue.delete, job_id)
    await run_in_threadpool(files.remove, job_id)
    return ORJSONResponse({"id": job_id, "state": "deleted"})
