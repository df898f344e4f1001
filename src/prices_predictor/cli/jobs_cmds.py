"""``worker`` (prices the queued jobs) and ``jobs`` (submit, follow, fetch, cancel over HTTP)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from prices_predictor.cli.output import console, err_console, fail
from prices_predictor.cli.progress import shown
from prices_predictor.cli.runtime import prepare, settings, user_errors
from prices_predictor.core.errors import DataError

jobs_app = typer.Typer(
    help="Batch jobs through the API: submit a file, follow it, fetch the prices, cancel it.",
    no_args_is_help=True,
)
UPLOAD_TYPES = {
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".txt": "text/plain",
    ".gz": "application/gzip",
    ".bz2": "application/x-bzip2",
    ".xz": "application/x-xz",
    ".parquet": "application/vnd.apache.parquet",
    ".pq": "application/vnd.apache.parquet",
    ".zip": "application/zip",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "application/vnd.ms-excel.sheet.macroenabled.12",
}
POLL_S = 0.5
Url = Annotated[
    str | None, typer.Option(help="API base URL (default PP_API_URL, http://127.0.0.1:8000).")
]


def register(app: typer.Typer) -> None:
    app.command()(worker)
    app.add_typer(jobs_app, name="jobs")


def worker(
    queues: Annotated[
        list[str] | None,
        typer.Option(
            "--queues", "-q", help="Queue to take jobs from (repeatable; default PP_JOB_QUEUE)."
        ),
    ] = None,
    burst: Annotated[bool, typer.Option(help="Stop once the queues are empty.")] = False,
) -> None:
    """Price queued jobs with the same code as `predict`, each with the model version it was
    submitted with. Waits for Redis (PP_REDIS_URL) if it is not up yet."""
    s = settings()
    if not s.model_uri:
        prepare(s)
    # lazy: rq and the scoring stack only for the worker
    from prices_predictor.jobs.worker import run_worker

    with user_errors():
        run_worker(s, queues or [s.job_queue], burst)


def _client(url: str | None) -> httpx.Client:
    base = (url or settings().api_url).rstrip("/")
    return httpx.Client(base_url=base, timeout=httpx.Timeout(30.0, read=300.0))


def _call(fn: Any, *args: Any, **kwargs: Any) -> httpx.Response:
    try:
        r: httpx.Response = fn(*args, **kwargs)
    except httpx.HTTPError as exc:
        raise fail(f"cannot reach the API: {exc}") from None
    return r


def _check(r: httpx.Response) -> dict[str, Any]:
    if r.status_code >= 400:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        if isinstance(detail, list):
            detail = "; ".join(str(d.get("message", d)) for d in detail)
        elif isinstance(detail, dict):
            detail = detail.get("message", detail)
        raise fail(f"HTTP {r.status_code}: {detail}")
    out: dict[str, Any] = r.json()
    return out


@jobs_app.command("submit")
def submit(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (also .tsv, .txt, .csv.gz), Parquet, ZIP (one CSV) or Excel workbook of "
            "houses."
        ),
    ],
    wait: Annotated[bool, typer.Option(help="Follow the job with a progress bar.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="With --wait: write the prices here (.csv, .parquet or .xlsx)."),
    ] = None,
    url: Url = None,
    quiet: Annotated[bool, typer.Option(help="No progress on stderr.")] = False,
) -> None:
    """Upload a file of houses as a job; prints its id."""
    if not file.is_file():
        raise fail(f"{file}: file not found")
    ctype = UPLOAD_TYPES.get(file.suffix.lower(), "application/octet-stream")
    with _client(url) as c, file.open("rb") as fh:
        r = _call(
            c.post,
            "/v1/jobs",
            content=fh,
            headers={
                "content-type": ctype,
                "content-disposition": f'attachment; filename="{file.name}"',
            },
        )
        job = _check(r)
        console.print(job["id"], highlight=False)
        err_console.print(
            f"submitted {file.name} for {job['model']['name']} v{job['model']['version']}",
            highlight=False,
        )
        if wait or out is not None:
            job = _follow(c, job["id"], quiet)
            if out is not None and job["state"] == "finished":
                _download(c, job["id"], out)
    if wait and job["state"] != "finished":
        raise typer.Exit(1)


@jobs_app.command("status")
def status(
    job_id: Annotated[str, typer.Argument(help="Job id.")],
    follow: Annotated[bool, typer.Option(help="Show a progress bar until the job ends.")] = False,
    url: Url = None,
    quiet: Annotated[bool, typer.Option(help="No progress on stderr.")] = False,
) -> None:
    """State, rows done, timings and findings of a job (JSON)."""
    with _client(url) as c:
        job = _follow(c, job_id, quiet) if follow else _check(_call(c.get, f"/v1/jobs/{job_id}"))
    console.print_json(data=job)


@jobs_app.command("result")
def result(
    job_id: Annotated[str, typer.Argument(help="Job id.")],
    out: Annotated[Path, typer.Option(help="Where to write the prices: .csv, .parquet or .xlsx.")],
    url: Url = None,
) -> None:
    """Fetch the prices of a finished job."""
    with _client(url) as c:
        _download(c, job_id, out)


@jobs_app.command("cancel")
def cancel(job_id: Annotated[str, typer.Argument(help="Job id.")], url: Url = None) -> None:
    """Cancel a queued or running job (an ended one is deleted with its files)."""
    with _client(url) as c:
        job = _check(_call(c.delete, f"/v1/jobs/{job_id}"))
    console.print(f"{job_id}: {job['state']}", highlight=False)


def _follow(c: httpx.Client, job_id: str, quiet: bool = False) -> dict[str, Any]:
    """Poll the job until it ends, showing its state and rows (``cli.progress``)."""
    t0 = time.monotonic()
    with shown("jobs", quiet) as shows:
        stage = f"job {job_id[:12]}"
        shows.started(stage)
        while True:
            job = _check(_call(c.get, f"/v1/jobs/{job_id}"))
            shows.advanced(stage, job["rows_done"], job.get("rows_total"), job["state"])
            if job["state"] in ("finished", "failed", "cancelled"):
                break
            time.sleep(POLL_S)
        shows.finished(stage, time.monotonic() - t0, job["state"])
    if job["state"] == "failed":
        err_console.print(f"[bold red]failed:[/] {job.get('error')}", highlight=False)
    for text in job.get("findings") or ():
        err_console.print(f"warning: {text}", highlight=False, soft_wrap=True)
    return job


def _workbook(parquet: Path, out: Path) -> None:
    # lazy: pandas only to write a workbook
    import pandas as pd

    # lazy: the batch writer only to write a workbook
    from prices_predictor.batch.score import write_table

    try:
        write_table(pd.read_parquet(parquet), out)
    except DataError as exc:
        raise fail(str(exc)) from None


def _download(c: httpx.Client, job_id: str, out: Path) -> None:
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "parquet", "xlsx"):
        raise fail(
            f"{out}: unknown output type '{out.suffix or '(none)'}', "
            "expected .csv, .parquet or .xlsx"
        )
    if not out.parent.is_dir():
        raise fail(f"{out}: directory {out.parent} does not exist")
    tmp = out.with_name(f".{out.name}.part")
    fetch = "parquet" if fmt == "xlsx" else fmt  # a workbook is written here, as predict does
    try:
        with c.stream("GET", f"/v1/jobs/{job_id}/result", params={"format": fetch}) as r:
            if r.status_code >= 400:
                r.read()
                _check(r)
            with tmp.open("wb") as fh:
                for block in r.iter_bytes(1 << 20):
                    fh.write(block)
        if fmt == "xlsx":
            _workbook(tmp, out)
        else:
            tmp.replace(out)
    except httpx.HTTPError as exc:
        raise fail(f"cannot fetch the result: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    err_console.print(f"prices of job {job_id} -> {out}", highlight=False)
