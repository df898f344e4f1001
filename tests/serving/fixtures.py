"""An in-process app serving the session bundle (real model, real SQLite prediction log)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prices_predictor.core.settings import Settings
from prices_predictor.serving.app import create_app

TOKEN = "s3cret-token"


def make_settings(home: Path, bundle: Path, **kw: object) -> Settings:
    return Settings(
        home=home,
        model_uri=str(bundle),
        reload_interval_s=0,
        admin_token=TOKEN,
        prediction_log_flush_s=0.05,
        **kw,
    )  # type: ignore[arg-type]


@pytest.fixture()
def client(bundle_dir: Path, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path / "home", bundle_dir))
    with TestClient(app) as c:
        wait_ready(c)
        yield c


def wait_ready(c: TestClient, timeout: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if c.get("/ready").status_code == 200:
            return
        time.sleep(0.05)
    raise TimeoutError(c.get("/ready").text)
