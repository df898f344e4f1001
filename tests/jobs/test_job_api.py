"""The job routes in process, against a real redis-server: what is refused at upload, what
Redis being down does, and the files a job leaves (no worker runs here)."""

from __future__ import annotations

import bz2
import gzip
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from ops.procs import free_port
from prices_predictor.jobs.files import JobFiles
from prices_predictor.serving.app import create_app
from tests.servers import redis_server
from tests.serving.fixtures import make_settings, wait_ready


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as (url, _):
        yield url


@pytest.fixture()
def api(bundle_dir: Path, tmp_path: Path, redis_url: str) -> Iterator[TestClient]:
    s = make_settings(tmp_path / "home", bundle_dir, redis_url=redis_url, max_job_bytes=200_000)
    with TestClient(create_app(s)) as c:
        wait_ready(c)
        yield c


def _jobs_dir(c: TestClient) -> Path:
    return Path(c.app.state.job_files.base)  # type: ignore[attr-defined]


def _csv(rows: pd.DataFrame) -> bytes:
    return rows.to_csv(index=False).encode()


def test_a_file_is_queued_with_links_and_its_model(
    api: TestClient, small_ames: pd.DataFrame
) -> None:
    body = _csv(small_ames.head(50))
    r = api.post(
        "/v1/jobs",
        content=body,
        headers={"content-type": "text/csv", "content-disposition": 'attachment; filename="a.csv"'},
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert len(job["id"]) >= 24 and job["state"] == "queued" and job["file"] == "a.csv"
    assert r.headers["location"] == job["links"]["self"] == f"/v1/jobs/{job['id']}"
    assert job["model"]["version"]
    assert (_jobs_dir(api) / job["id"] / "input.csv").read_bytes() == body
    status = api.get(job["links"]["self"]).json()
    assert status["state"] == "queued" and status["rows_done"] == 0 and status["attempts"] == 0
    assert status["expires_at"]
    # not finished: the result is a conflict, naming the state
    r = api.get(job["links"]["result"])
    assert r.status_code == 409 and r.json()["detail"]["state"] == "queued"
    # a queued job is cancelled at once, then deleted with its files
    r = api.delete(job["links"]["self"])
    assert r.status_code == 202 and r.json()["state"] == "cancelled"
    r = api.delete(job["links"]["self"])
    assert r.status_code == 200 and r.json()["state"] == "deleted"
    assert not (_jobs_dir(api) / job["id"]).exists()
    assert api.get(job["links"]["self"]).status_code == 404


def test_multipart_parquet_with_snake_case_names_is_accepted(
    api: TestClient, small_ames: pd.DataFrame
) -> None:
    from prices_predictor.spec.names import api_name

    buf = io.BytesIO()
    small_ames.head(40).rename(columns=api_name).to_parquet(buf, index=False)
    r = api.post(
        "/v1/jobs", files={"file": ("houses.parquet", buf.getvalue(), "application/octet-stream")}
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["rows_total"] == 40 and job["file"] == "houses.parquet"
    assert (_jobs_dir(api) / job["id"] / "input.parquet").exists()


def test_an_excel_workbook_is_a_file_of_houses_too(
    api: TestClient, small_ames: pd.DataFrame
) -> None:
    from prices_predictor.data.ingest import source_for

    buf = io.BytesIO()
    small_ames.head(30).to_excel(buf, index=False)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = api.post("/v1/jobs", content=buf.getvalue(), headers={"content-type": xlsx})
    assert r.status_code == 202, r.text
    stored = _jobs_dir(api) / r.json()["id"] / "input.xlsx"
    assert stored.read_bytes() == buf.getvalue()
    # what the worker reads (source_for, as predict) is the sheet's rows
    rows = source_for(str(stored)).read()
    assert rows["SalePrice"].tolist() == small_ames.head(30)["SalePrice"].tolist()
    # a ZIP that is neither one CSV nor a workbook is still refused as before
    r = api.post(
        "/v1/jobs",
        files={"file": ("houses.xlsx", b"PK\x03\x04broken", "application/octet-stream")},
    )
    assert r.status_code == 422 and "not a valid ZIP archive" in r.text


def test_a_compressed_csv_is_read_by_its_content_whatever_its_name(
    api: TestClient, small_ames: pd.DataFrame
) -> None:
    from prices_predictor.data.ingest import source_for

    for compress, suffix in ((gzip.compress, ".csv.gz"), (bz2.compress, ".csv.bz2")):
        body = compress(small_ames.head(30).to_csv(sep="\t", index=False).encode())
        if suffix == ".csv.gz":  # the raw body, typed as curl --data-binary would be told
            r = api.post("/v1/jobs", content=body, headers={"content-type": "application/gzip"})
        else:
            files = {"file": ("houses.dat", body, "application/octet-stream")}
            r = api.post("/v1/jobs", files=files)
        assert r.status_code == 202, r.text
        stored = _jobs_dir(api) / r.json()["id"] / f"input{suffix}"
        assert stored.read_bytes() == body
        rows = source_for(str(stored)).read()  # what the worker reads, as predict would
        assert rows["SalePrice"].tolist() == small_ames.head(30)["SalePrice"].tolist()
    r = api.post("/v1/jobs", content=gzip.compress(b"city,colour\nParis,blue\n"))
    assert r.status_code == 422 and "none of its 2 columns is an input" in r.text


@pytest.mark.parametrize(
    ("body", "ctype", "status", "message"),
    [
        (b"", "text/csv", 422, "upload: file is empty"),
        (
            b"\x00\x01\x02garbage" * 10,
            "application/octet-stream",
            422,
            "not a CSV, Parquet, ZIP or Excel",
        ),
        (b"city,colour\nParis,blue\n", "text/csv", 422, "none of its 2 columns is an input"),
        (b"PK\x03\x04broken", "application/zip", 422, "upload: not a valid ZIP archive"),
        (b"PAR1broken", "application/vnd.apache.parquet", 422, "upload: cannot read PARQUET"),
        (
            b"Gr Liv Area,gr_liv_area\n1,2\n",
            "text/csv",
            422,
            "'Gr Liv Area' appears more than once",
        ),
        (b'{"gr_liv_area": 1500}', "application/json", 415, "a job takes a file of houses"),
        (b"Gr Liv Area\n" + b"1500\n" * 50_000, "text/csv", 413, "200000"),
    ],
)
def test_what_cannot_be_a_table_of_houses_is_refused_and_nothing_is_kept(
    api: TestClient, body: bytes, ctype: str, status: int, message: str
) -> None:
    before = set(os.listdir(_jobs_dir(api)))
    r = api.post("/v1/jobs", content=body, headers={"content-type": ctype})
    assert r.status_code == status, r.text
    assert message in r.text
    if status == 422:
        assert r.json()["detail"][0]["field"] == "file"
    assert set(os.listdir(_jobs_dir(api))) == before


def test_multipart_without_a_file_part_or_with_two_files_is_refused(api: TestClient) -> None:
    r = api.post("/v1/jobs", data={"note": "no file"}, files={"other": ("x.csv", b"a\n1\n")})
    assert r.status_code == 422 and "'file'" in r.text
    two = [("file", ("a.csv", b"Gr Liv Area\n1\n")), ("file", ("b.csv", b"Gr Liv Area\n2\n"))]
    r = api.post("/v1/jobs", files=two)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "file", r.text


def test_unknown_job_is_404_everywhere(api: TestClient) -> None:
    for method, path in (
        ("GET", "/v1/jobs/nope"),
        ("GET", "/v1/jobs/nope/result"),
        ("DELETE", "/v1/jobs/nope"),
    ):
        r = api.request(method, path)
        assert r.status_code == 404 and "no job 'nope'" in r.text, (method, path)


def test_redis_down_makes_only_job_routes_503_and_they_recover(
    bundle_dir: Path, tmp_path: Path, small_ames: pd.DataFrame
) -> None:
    port = free_port()  # nothing listens there yet
    s = make_settings(tmp_path / "home", bundle_dir, redis_url=f"redis://127.0.0.1:{port}/0")
    body = _csv(small_ames.head(20))
    with TestClient(create_app(s)) as c:
        wait_ready(c)
        t0 = time.monotonic()
        r = c.post("/v1/jobs", content=body, headers={"content-type": "text/csv"})
        assert r.status_code == 503 and f"127.0.0.1:{port}" in r.json()["detail"]
        assert r.headers["retry-after"]
        assert time.monotonic() - t0 < 5  # fails fast, not after the client's default retries
        assert c.get("/v1/jobs/anything").status_code == 503
        assert c.get("/ready").status_code == 200
        assert c.post("/v1/predict", json={"gr_liv_area": 1500}).status_code == 200
        metrics = c.get("/metrics").text
        assert "pp_jobs_queue_up 0.0" in metrics
        assert os.listdir(_jobs_dir(c)) == []
        with redis_server(tmp_path / "redis", port):
            r = c.post("/v1/jobs", content=body, headers={"content-type": "text/csv"})
            assert r.status_code == 202, r.text
            metrics = c.get("/metrics").text
            assert "pp_jobs_queue_up 1.0" in metrics and "pp_jobs_queue_length 1.0" in metrics


def test_files_of_jobs_that_no_longer_exist_are_swept(tmp_path: Path) -> None:
    files = JobFiles(str(tmp_path / "jobs"), tmp_path / "staging")
    files.prepare()
    for job_id in ("live", "expired", "young"):
        (tmp_path / "jobs" / job_id).mkdir()
        (tmp_path / "jobs" / job_id / "input.csv").write_text("a\n1\n")
    old = time.time() - 3600
    for job_id in ("live", "expired"):
        os.utime(tmp_path / "jobs" / job_id, (old, old))
    removed = files.sweep(lambda ids: [i == "live" for i in ids])
    assert removed == 1
    # a young directory may belong to a submission not yet enqueued: kept
    assert sorted(os.listdir(tmp_path / "jobs")) == ["live", "young"]


def test_an_upload_streamed_past_the_limit_is_413_and_nothing_is_kept(api: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced as it streams
        yield b"Gr Liv Area\n"
        for _ in range(100):
            yield b"1500\n" * 1000

    before = set(os.listdir(_jobs_dir(api)))
    r = api.post("/v1/jobs", content=chunks(), headers={"content-type": "text/csv"})
    assert r.status_code == 413, r.text
    assert set(os.listdir(_jobs_dir(api))) == before


def test_job_files_on_a_remote_file_system_go_through_staging(tmp_path: Path) -> None:
    """fsspec's memory file system stands for s3:// and the like (not a local root)."""
    files = JobFiles("memory://pp-test-jobs", tmp_path / "staging")
    files.prepare()
    assert not files.local
    staged = files.staging_file("j1")
    staged.write_bytes(b"Gr Liv Area\n1500\n")
    name = files.publish_input("j1", staged, ".csv")
    assert name == "input.csv" and not staged.parent.exists()  # staging cleaned up
    with files.local_input("j1", name) as local:
        assert local.read_bytes() == b"Gr Liv Area\n1500\n"
    assert not files.has_result("j1")
    with pytest.raises(RuntimeError), files.result_target("j1") as out:
        out.write_bytes(b"half")
        raise RuntimeError("killed while writing")
    assert not files.has_result("j1")  # nothing published from a failed execution
    with files.result_target("j1") as out:
        out.write_bytes(b"whole")
    assert files.has_result("j1") and files.result_size("j1") == 5
    with files.open_result("j1") as path:
        assert path.read_bytes() == b"whole"
    files.remove("j1")
    assert not files.fs.exists(files.path("j1"))
    assert list((tmp_path / "staging").iterdir()) == []


def test_a_full_jobs_disk_is_503_and_leaves_nothing(
    api: TestClient, small_ames: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC cannot be made on this disk: the store's write fails as the OS would fail it."""
    import errno

    files: JobFiles = api.app.state.job_files  # type: ignore[attr-defined]

    def full(*_: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "publish_input", full)
    before = set(os.listdir(_jobs_dir(api)))
    r = api.post("/v1/jobs", content=_csv(small_ames.head(5)), headers={"content-type": "text/csv"})
    assert r.status_code == 503 and "No space left on device" in r.json()["detail"]
    assert r.headers["retry-after"]
    assert set(os.listdir(_jobs_dir(api))) == before
