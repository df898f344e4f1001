"""The prediction log on SQLite and on a real PostgreSQL: journaled before the answer, shipped
in batches, idempotently, nothing lost on close or on a database outage."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from prices_predictor.serving.app import create_app
from prices_predictor.store.predictions import make_engine, predictions, read_recent, store
from prices_predictor.store.predlog import PredictionLog
from tests.conftest import logged
from tests.servers import postgres_server
from tests.serving.fixtures import make_settings, wait_ready


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with postgres_server(tmp_path_factory.mktemp("pg")) as url:
        yield url


def _rows(n: int) -> list[dict[str, object]]:
    return logged([{"Gr Liv Area": i} for i in range(n)])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_close_drains_every_queued_row(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path}/p.db" if backend == "sqlite" else request.getfixturevalue("pg_url")
    log = PredictionLog(url, tmp_path / "j", flush_s=5.0, batch=100)  # only close() ships
    with log.engine.begin() as conn:
        conn.execute(predictions.delete())
    log.add(_rows(2500))
    log.close()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(predictions)).scalar() == 2500
    recent = read_recent(engine, last=3)
    assert [r["request_id"] for r in recent] == ["r2499", "r2498", "r2497"]
    engine.dispose()


def test_api_logs_to_postgresql(pg_url: str, bundle_dir: Path, tmp_path: Path) -> None:
    app = create_app(
        make_settings(tmp_path / "h", bundle_dir, prediction_db_url=pg_url, cache_size=0)
    )
    with TestClient(app) as c:
        wait_ready(c)
        for i in range(5):
            r = c.post(
                "/v1/predict", json={"gr_liv_area": 1000 + i}, headers={"X-Request-ID": f"pg-{i}"}
            )
            assert r.status_code == 200
        r = c.post(
            "/v1/predict/batch",
            json={"houses": [{"gr_liv_area": 900}] * 3},
            headers={"X-Request-ID": "pg-batch"},
        )
        assert r.status_code == 200
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                sa.select(predictions.c.request_id).where(predictions.c.request_id.like("pg-%"))
            )
        ]
    assert sorted(ids) == ["pg-0", "pg-1", "pg-2", "pg-3", "pg-4"] + ["pg-batch"] * 3
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_retention_deletes_only_rows_older_than_the_limit(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    import datetime as dt

    url = f"sqlite:///{tmp_path}/p.db" if backend == "sqlite" else request.getfixturevalue("pg_url")
    now = dt.datetime.now(dt.UTC)
    old = [{**r, "ts": now - dt.timedelta(days=40)} for r in _rows(30)]
    recent = [{**r, "ts": now - dt.timedelta(days=2)} for r in logged([{"a": 1}] * 20, "n")]
    seed = PredictionLog(url, tmp_path / "j", flush_s=5.0)
    with seed.engine.begin() as conn:
        conn.execute(predictions.delete())
    seed.add(old + recent)
    seed.close()
    log = PredictionLog(url, tmp_path / "j", flush_s=0.05, retention_days=30)  # prunes at start
    deadline = dt.datetime.now() + dt.timedelta(seconds=30)
    while dt.datetime.now() < deadline:
        with log.engine.connect() as conn:
            ids = {r for (r,) in conn.execute(sa.select(predictions.c.request_id))}
        if len(ids) == 20:
            break
        threading.Event().wait(0.05)
    log.close()
    assert ids == {f"n{i}" for i in range(20)}
    assert log.prune(30) == 0  # nothing left to delete


def test_retention_is_a_setting_of_the_served_app(tmp_path: Path, bundle_dir: Path) -> None:
    settings = make_settings(tmp_path / "home", bundle_dir).model_copy(
        update={"prediction_log_retention_days": 7.0}
    )
    app = create_app(settings)
    assert app.state.predlog.retention_days == 7.0
    app.state.predlog.close()


def test_sqlite_rows_read_back_as_sqlalchemy_wrote_them(tmp_path: Path) -> None:
    import datetime as dt

    rows = logged([{"Gr Liv Area": 1500.5, "Neighborhood": "NAmes", "Alley": None}] * 2)
    rows[0]["client_id"] = None
    rows[1].update(shadow=True, client_id="c1", price_low=None, row=7)
    stamp = dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.UTC)
    for r in rows:
        r["ts"] = stamp
    fast = make_engine(f"sqlite:///{tmp_path}/fast.db")
    with fast.begin() as conn:
        store(conn, [{**r, "entry": f"e{i}"} for i, r in enumerate(rows)], [])  # SQLite path
        conn.execute(predictions.insert(), [dict(r) for r in rows])  # SQLAlchemy's own binding
        got = [dict(r._mapping) for r in conn.execute(sa.select(predictions))]
        raw = conn.exec_driver_sql("SELECT ts, shadow, features FROM predictions").fetchall()
    fast.dispose()
    for a, b in ((got[0], got[2]), (got[1], got[3])):
        assert {k: v for k, v in a.items() if k not in ("id", "entry")} == {
            k: v for k, v in b.items() if k not in ("id", "entry")
        }
    assert raw[0] == raw[2] and raw[1] == raw[3]  # the very same stored text
    assert got[1]["shadow"] is True and got[1]["row"] == 7 and got[1]["price_low"] is None
    assert got[0]["features"] == {"Gr Liv Area": 1500.5, "Neighborhood": "NAmes"}
    engine = sa.create_engine(f"sqlite:///{tmp_path}/fast.db")
    assert len(read_recent(engine, since=stamp)) == 2  # not the shadow rows; ts compares alike
    assert read_recent(engine, since=stamp + dt.timedelta(microseconds=1)) == []
    engine.dispose()


def test_every_logged_row_records_the_spec_and_readers_keep_schemas_apart(
    client: TestClient, tmp_path: Path
) -> None:
    from prices_predictor.spec.io import preset

    r = client.post("/v1/predict", json={"gr_liv_area": 1500})
    assert r.status_code == 200
    log = client.app.state.predlog  # type: ignore[attr-defined]
    assert log.flush(60)
    digest = client.get("/v1/model").json()["spec_digest"]
    rows = read_recent(log.engine, last=5, spec_hash=digest)
    assert rows and rows[0]["spec_hash"] == digest
    assert read_recent(log.engine, last=5, spec_hash="another-spec") == []
    # a database from before the column: migrated on open, its rows read as the Ames preset's
    old = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{old}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE predictions (id INTEGER PRIMARY KEY, request_id VARCHAR(64) NOT NULL,"
            " row INTEGER NOT NULL, ts DATETIME NOT NULL, model_name VARCHAR(128) NOT NULL,"
            " model_version VARCHAR(32) NOT NULL, variant VARCHAR(32) NOT NULL,"
            " shadow BOOLEAN NOT NULL, client_id VARCHAR(128), features JSON NOT NULL,"
            " price FLOAT NOT NULL, price_low FLOAT, price_high FLOAT, latency_ms FLOAT)"
        )
        conn.exec_driver_sql(
            "INSERT INTO predictions (request_id, row, ts, model_name, model_version, variant,"
            " shadow, features, price) VALUES ('r', 0, '2026-01-01 00:00:00', 'm', '1',"
            " 'champion', 0, '{}', 1.0)"
        )
    moved = make_engine(f"sqlite:///{old}")
    ames = preset("ames").digest()
    assert len(read_recent(moved, spec_hash=ames, legacy_hash=ames)) == 1
    assert read_recent(moved, spec_hash="another-spec", legacy_hash=ames) == []
    moved.dispose()


def test_a_full_journal_answers_503_and_recovers_when_the_database_is_back(
    bundle_dir: Path, tmp_path: Path
) -> None:
    db_dir = tmp_path / "db"  # missing: the database is "down"
    settings = make_settings(
        tmp_path / "h",
        bundle_dir,
        prediction_db_url=f"sqlite:///{db_dir}/p.db",
        predlog_max_bytes=1 << 20,
        cache_size=0,
    )
    with TestClient(create_app(settings)) as c:
        wait_ready(c)
        houses = {"houses": [{"gr_liv_area": 1000 + i} for i in range(1000)]}
        answers = [c.post("/v1/predict/batch", json=houses) for _ in range(8)]
        codes = [r.status_code for r in answers]
        assert codes[0] == 200 and codes[-1] == 503 and set(codes) == {200, 503}
        accepted = codes.count(200)
        assert "PP_PREDLOG_MAX_BYTES" in answers[-1].json()["detail"]
        assert answers[-1].headers["retry-after"]
        assert c.get("/health").status_code == 200
        metrics = c.get("/metrics").text
        assert f"pp_prediction_log_rejected_rows_total {codes.count(503) * 1000}.0" in metrics
        assert f"pp_prediction_log_backlog_rows {accepted * 1000}.0" in metrics
        db_dir.mkdir()  # the database is back: the backlog ships, predictions are served again
        assert c.app.state.predlog.flush(30)  # type: ignore[attr-defined]
        r = c.post("/v1/predict", json={"gr_liv_area": 1500})
        assert r.status_code == 200
        assert c.app.state.predlog.flush(60)  # type: ignore[attr-defined]
        assert "pp_prediction_log_backlog_rows 0.0" in c.get("/metrics").text
    engine = sa.create_engine(f"sqlite:///{db_dir}/p.db")
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(predictions)).scalar()
    assert n == accepted * 1000 + 1
    engine.dispose()
