"""Jobs end to end on real processes: redis-server (append-only), the API, `prices-predictor
worker`s and the `jobs` commands. The prices are those of `prices-predictor predict`; a worker
killed mid-job, a Redis restart and a second worker lose nothing and score nothing twice."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.conftest import base_env, private_home, run_cli
from tests.servers import api_server, job_worker, redis_server

pytestmark = pytest.mark.slow
# a killed worker's job is queued again within heartbeat + grace (+ a maintenance round)
FAST_RECOVERY = {"PP_JOB_HEARTBEAT_S": "1", "PP_JOB_GRACE_S": "3"}


def _until(cond: Callable[[], Any], timeout: float, what: str, poll: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(poll)
    raise TimeoutError(f"{what} within {timeout:.0f} s")


def _status(url: str, job_id: str) -> dict[str, Any]:
    r = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _ended(url: str, job_id: str) -> Callable[[], dict[str, Any] | None]:
    def check() -> dict[str, Any] | None:
        job = _status(url, job_id)
        return job if job["state"] in ("finished", "failed", "cancelled") else None

    return check


def _submit(url: str, path: Path) -> str:
    ctype = "text/csv" if path.suffix == ".csv" else "application/vnd.apache.parquet"
    with path.open("rb") as fh:
        r = httpx.post(
            f"{url}/v1/jobs",
            content=fh.read(),
            headers={
                "content-type": ctype,
                "content-disposition": f'attachment; filename="{path.name}"',
            },
            timeout=60,
        )
    assert r.status_code == 202, r.text
    job_id: str = r.json()["id"]
    return job_id


def _result(url: str, job_id: str, **params: str) -> httpx.Response:
    r = httpx.get(f"{url}/v1/jobs/{job_id}/result", params=params, timeout=60)
    assert r.status_code == 200, r.text
    return r


@pytest.fixture(scope="module")
def many_houses(ames: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~600,000 houses (Ames repeated, Order renumbered) as Parquet: a job of some seconds."""
    path = tmp_path_factory.mktemp("many") / "many.parquet"
    big = pd.concat([ames] * 205, ignore_index=True)
    big["Order"] = np.arange(len(big))
    big.to_parquet(path, index=False)
    return path


@pytest.fixture()
def stack(bundle_dir: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """redis-server + API serving the session bundle; workers are started by each test."""
    with ExitStack() as es:
        redis_url, redis_proc = es.enter_context(redis_server(tmp_path / "redis"))
        env = base_env(
            tmp_path / "pp",
            PP_MODEL_URI=str(bundle_dir),
            PP_REDIS_URL=redis_url,
            **FAST_RECOVERY,
        )
        url, _ = es.enter_context(api_server(env, tmp_path / "api.log"))
        env["PP_API_URL"] = url
        yield {"env": env, "url": url, "redis": redis_url, "redis_proc": redis_proc, "es": es}


def test_a_job_gives_the_prices_of_predict_and_reports_its_progress(
    stack: dict[str, Any], ames: pd.DataFrame, many_houses: Path, tmp_path: Path
) -> None:
    env, url = stack["env"], stack["url"]
    houses = tmp_path / "houses.csv"
    ames.head(700).to_csv(houses, index=False)
    direct_csv, direct_pq = tmp_path / "direct.csv", tmp_path / "direct.parquet"
    run_cli(["predict", "--data", str(houses), "--out", str(direct_csv)], env, check=True)
    run_cli(["predict", "--data", str(many_houses), "--out", str(direct_pq)], env, check=True)
    with job_worker(env, tmp_path / "worker.log"):
        # the CLI: submit, follow (progress lines on stderr), fetch the CSV
        out = tmp_path / "job.csv"
        proc = run_cli(["jobs", "submit", str(houses), "--wait", "--out", str(out)], env)
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes() == direct_csv.read_bytes()
        job_id = proc.stdout.strip()
        assert f"[jobs] job {job_id[:12]}: 700/700; finished" in proc.stderr
        assert "ignored columns: SalePrice" in proc.stderr
        status = run_cli(["jobs", "status", job_id], env, check=True)
        assert '"state": "finished"' in status.stdout
        book = tmp_path / "job.xlsx"  # a workbook, written as predict writes one
        run_cli(["jobs", "result", job_id, "--out", str(book)], env, check=True)
        pd.testing.assert_frame_equal(pd.read_excel(book), pd.read_csv(direct_csv))

        # HTTP: a big Parquet, progress seen between 0 and the total
        job_id = _submit(url, many_houses)
        seen: set[int] = set()

        def progress() -> dict[str, Any] | None:
            job = _status(url, job_id)
            seen.add(job["rows_done"])
            return job if job["state"] == "finished" else None

        job = _until(progress, 120, "the big job", poll=0.05)
        total = len(pd.read_parquet(many_houses, columns=["Order"]))
        assert job["rows_done"] == job["rows_total"] == total
        assert any(0 < k < total for k in seen), sorted(seen)
        assert job["attempts"] == 1 and job["commits"] == 1 and job["error"] is None
        assert set(job["seconds"]) >= {"read", "score", "write", "total"}
        assert job["started_at"] and job["ended_at"] and job["model"]["version"] == "1"
        got = pd.read_parquet(_as_file(_result(url, job_id), tmp_path / "r.parquet"))
        pd.testing.assert_frame_equal(got, pd.read_parquet(direct_pq))
        # CSV by Accept: the same values as Parquet, formatted as predict formats CSV
        r = httpx.get(f"{url}/v1/jobs/{job_id}/result", headers={"accept": "text/csv"}, timeout=60)
        assert r.headers["content-type"].startswith("text/csv")
        head = r.text.splitlines()[:3]
        assert head[0] == "Order,PID,price,price_low,price_high"
        prices = ",".join(f"{got[c].iloc[0]:.2f}" for c in ("price", "price_low", "price_high"))
        assert head[1] == f"0,{got['PID'].iloc[0]},{prices}"
        assert len(r.text.splitlines()) == total + 1

    metrics = httpx.get(f"{url}/metrics", timeout=10).text
    assert 'pp_jobs{state="finished"} 2.0' in metrics
    assert f"pp_job_rows_total {float(total + 700)}" in metrics
    assert "pp_job_duration_seconds_count 2.0" in metrics


def _as_file(r: httpx.Response, path: Path) -> Path:
    path.write_bytes(r.content)
    return path


def test_a_hard_violation_fails_the_job_with_the_table_predict_prints(
    stack: dict[str, Any], ames: pd.DataFrame, tmp_path: Path
) -> None:
    env, url = stack["env"], stack["url"]
    bad = ames.head(200).copy()
    bad.loc[[3, 7], "Overall Qual"] = [12, 0]
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    cli = run_cli(  # --quiet: the error alone, without the progress lines
        ["predict", "--data", str(path), "--out", str(tmp_path / "x.csv"), "--quiet"], env
    )
    assert cli.returncode == 2
    job_id = _submit(url, path)
    # the CLI cancels a queued job: no worker will ever run it
    queued = _submit(url, path)
    cancel = run_cli(["jobs", "cancel", queued], env, check=True)
    assert cancel.stdout.strip() == f"{queued}: cancelled"
    with job_worker(env, tmp_path / "worker.log", "--burst") as proc:
        proc.wait(120)
    assert _status(url, queued)["state"] == "cancelled"
    assert _status(url, queued)["attempts"] == 0
    job = _status(url, job_id)
    assert job["state"] == "failed" and job["attempts"] == 1  # bad input is not retried
    assert "Overall Qual" in job["error"] and "range: in [1, 10]" in job["error"]
    # the same text predict prints after "error: " (rich may wrap the terminal's copy)
    assert job["error"].startswith("bad.csv: 1 hard validation rule(s) broken")
    printed = cli.stderr.replace(str(path), path.name)
    assert " ".join(printed.split()) == " ".join(f"error: {job['error']}".split())
    r = httpx.get(f"{url}/v1/jobs/{job_id}/result", timeout=10)
    assert r.status_code == 409 and r.json()["detail"]["state"] == "failed"


def test_a_worker_killed_mid_job_is_replaced_and_the_job_finishes_once(
    stack: dict[str, Any], many_houses: Path, tmp_path: Path
) -> None:
    env, url = stack["env"], stack["url"]
    direct = tmp_path / "direct.parquet"
    run_cli(["predict", "--data", str(many_houses), "--out", str(direct)], env, check=True)
    job_id = _submit(url, many_houses)
    with job_worker(env, tmp_path / "worker-1.log") as first:
        job = _until(
            lambda: (j := _status(url, job_id))["state"] == "running" and j["rows_total"] and j,
            120,
            "scoring under way",
            poll=0.02,
        )
        os.killpg(first.pid, signal.SIGSTOP)  # freeze it mid-job, then kill it
        job = _status(url, job_id)
        assert job["state"] == "running" and job["rows_done"] < job["rows_total"], job
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    assert not (Path(env["PP_HOME"]) / "jobs" / job_id / "result.parquet").exists()
    # the supervisor starts a new worker: it finds the job abandoned and runs it again
    with job_worker(env, tmp_path / "worker-2.log"):
        job = _until(_ended(url, job_id), 120, "the job to end again")
    assert job["state"] == "finished", job
    assert job["attempts"] == 2 and job["commits"] == 1, job["history"]
    got = pd.read_parquet(_as_file(_result(url, job_id), tmp_path / "r.parquet"))
    pd.testing.assert_frame_equal(got, pd.read_parquet(direct))
    leftovers = [p.name for p in (Path(env["PP_HOME"]) / "jobs" / job_id).iterdir()]
    assert sorted(leftovers) == ["input.parquet", "result.parquet"]


def test_redis_restarted_between_submit_and_run_loses_no_job(
    stack: dict[str, Any], ames: pd.DataFrame, tmp_path: Path
) -> None:
    env, url = stack["env"], stack["url"]
    path = tmp_path / "houses.csv"
    ames.head(300).to_csv(path, index=False)
    ids = [_submit(url, path) for _ in range(3)]
    # stop Redis (SIGTERM: it writes its append-only file) and start it on the same directory
    redis_proc = stack["redis_proc"]
    redis_proc.terminate()
    redis_proc.wait(30)
    r = httpx.get(f"{url}/v1/jobs/{ids[0]}", timeout=10)
    assert r.status_code == 503 and "Redis" in r.json()["detail"]
    port = int(stack["redis"].rsplit(":", 1)[1].split("/")[0])
    with redis_server(tmp_path / "redis", port):
        assert [_status(url, i)["state"] for i in ids] == ["queued"] * 3  # the API reconnected
        with job_worker(env, tmp_path / "worker.log", "--burst") as proc:
            proc.wait(120)
        jobs = [_status(url, i) for i in ids]
    assert [j["state"] for j in jobs] == ["finished"] * 3
    assert [j["commits"] for j in jobs] == [1, 1, 1]


def test_two_workers_share_a_queue_without_scoring_a_job_twice(
    stack: dict[str, Any], ames: pd.DataFrame, tmp_path: Path
) -> None:
    env, url = stack["env"], stack["url"]
    path = tmp_path / "houses.parquet"
    big = pd.concat([ames] * 20, ignore_index=True)
    big.to_parquet(path, index=False)
    with (
        job_worker(env, tmp_path / "worker-a.log") as a,
        job_worker(env, tmp_path / "worker-b.log") as b,
    ):
        # both listen before the jobs arrive: each dequeue goes to one of them
        ids = [_submit(url, path) for _ in range(8)]
        jobs = [_until(_ended(url, i), 120, f"job {i}") for i in ids]
        assert a.poll() is None and b.poll() is None
    assert {j["state"] for j in jobs} == {"finished"}
    assert [(j["attempts"], j["commits"]) for j in jobs] == [(1, 1)] * len(ids)
    workers = {j["history"][0].split("worker=")[1].split()[0] for j in jobs}
    assert len(workers) == 2, workers  # both took jobs


def test_a_running_job_is_cancelled_between_slices(
    stack: dict[str, Any], many_houses: Path, tmp_path: Path
) -> None:
    env, url = stack["env"], stack["url"]
    job_id = _submit(url, many_houses)
    with job_worker(env, tmp_path / "worker.log"):
        _until(lambda: _status(url, job_id)["state"] == "running", 120, "running", poll=0.02)
        r = httpx.delete(f"{url}/v1/jobs/{job_id}", timeout=10)
        assert r.status_code == 202 and r.json()["cancel_requested"] is True, r.text
        job = _until(_ended(url, job_id), 60, "cancelled")
    assert job["state"] == "cancelled" and job["attempts"] == 1 and job["commits"] == 0
    assert not (Path(env["PP_HOME"]) / "jobs" / job_id / "result.parquet").exists()
    r = httpx.get(f"{url}/v1/jobs/{job_id}/result", timeout=10)
    assert r.status_code == 409


def test_a_job_is_priced_by_the_version_it_was_submitted_with(
    trained_home: dict[str, str], ames: pd.DataFrame, tmp_path: Path
) -> None:
    from tests.reliability.test_drills import _second_version

    home = tmp_path / "pp"
    with ExitStack() as es:
        redis_url, _ = es.enter_context(redis_server(tmp_path / "redis"))
        env = {
            **private_home(trained_home, home, "serving"),
            "PP_REDIS_URL": redis_url,
            "PP_RELOAD_INTERVAL_S": "0.5",
        }
        url, _ = es.enter_context(api_server(env, tmp_path / "api.log"))
        path = tmp_path / "houses.csv"
        ames.head(100).to_csv(path, index=False)
        first = _submit(url, path)
        with pytest.MonkeyPatch.context() as mp:
            _second_version(home, mp)
        run_cli(["promote", "--version", "2", "--force", "--reason", "test"], env, check=True)
        _until(
            lambda: httpx.get(f"{url}/v1/model", timeout=10).json().get("version") == "2",
            30,
            "version 2 served",
        )
        second = _submit(url, path)
        with job_worker(env, tmp_path / "worker.log", "--burst") as proc:
            proc.wait(180)
        jobs = [_status(url, first), _status(url, second)]
    assert [j["state"] for j in jobs] == ["finished", "finished"]
    assert [j["model"]["version"] for j in jobs] == ["1", "2"]
    assert [j["history"][-1].split("model=")[1].split()[0] for j in jobs] == ["v1", "v2"]
