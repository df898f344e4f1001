"""Sale dates as files write them: day first (3/12/2016 is 3 December) or month first, ISO,
ISO's basic form (20141013T000000). The spec records the order, and every path that reads
the model's dates (training, ``predict``, requests of text dates) reads them that way."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient

from prices_predictor.core.cells import dates
from prices_predictor.core.settings import Settings
from prices_predictor.serving.app import create_app
from prices_predictor.spec.infer import infer
from prices_predictor.spec.io import from_dict
from tests import datasets
from tests.conftest import base_env, run_cli
from tests.serving.fixtures import wait_ready

WHEN = pd.Timestamp("2015-01-05") + pd.to_timedelta(np.arange(546) * 11 % 700, unit="D")


def _sales(fmt: str) -> pd.DataFrame:
    """Windsor's houses sold over two years of a market rising 30% a year."""
    df = datasets.load("windsor")
    years = (WHEN - WHEN.min()).days.to_numpy() / 365.25
    return df.assign(
        price=(df["price"] * np.exp(np.log(1.3) * years)).round(),
        sold=WHEN.strftime(fmt),
    )


@pytest.mark.parametrize(
    ("fmt", "dayfirst"),
    [("%d/%m/%Y", True), ("%d.%m.%Y", True), ("%m/%d/%Y", False), ("%Y%m%dT000000", False)],
)
def test_the_date_order_is_read_from_the_data(fmt: str, dayfirst: bool) -> None:
    df = _sales(fmt)
    found = infer(df, "price")
    spec = from_dict(found.spec)
    assert spec.sale_date is not None and spec.sale_date.column == "sold"
    assert spec.dayfirst is dayfirst
    years = dates(df["sold"].to_numpy(), len(df), spec.dayfirst)
    truth = dates(WHEN.to_numpy(), len(df))
    np.testing.assert_allclose(years, truth, rtol=0, atol=1e-9)


@pytest.mark.parametrize("fmt", ["%d %B %Y", "%B %d, %Y", "%b-%Y", "%Y-%m"])
def test_month_names_and_months_alone_are_dates(fmt: str) -> None:
    df = _sales(fmt)
    spec = from_dict(infer(df, "price").spec)
    assert spec.sale_date is not None and spec.sale_date.column == "sold"
    years = dates(df["sold"].to_numpy(), len(df), spec.dayfirst)
    # a month without its day is read as its first day
    np.testing.assert_allclose(years, dates(WHEN.to_numpy(), len(df)), rtol=0, atol=31 / 365)


def test_dates_that_cannot_tell_their_order_are_month_first() -> None:
    df = _sales("%d/%m/%Y")
    early = df[WHEN.day <= 12].reset_index(drop=True)  # 3/12: March or 3 December?
    assert from_dict(infer(early, "price").spec).dayfirst is False


def test_day_first_dates_train_and_price_as_written(tmp_path: Path, fast_params_file: Path) -> None:
    env = base_env(tmp_path / "pp", fast_params_file)
    env.pop("PP_GATE_MAX_RMSE")
    env.pop("PP_GATE_MIN_R2")
    data = tmp_path / "sales.csv"
    _sales("%d/%m/%Y").to_csv(data, index=False)
    trained = run_cli(["train", "--data", str(data), "--target", "price"], env)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert "-> PROMOTED" in trained.stdout
    assert "day first" in trained.stdout
    spec = yaml.safe_load(next((tmp_path / "pp" / "specs").glob("inferred-*.yaml")).read_text())
    assert spec["dayfirst"] is True and spec["sale_date"] == {"column": "sold"}
    # the same five houses, sold on days <= 12 (either order parses), written three ways
    houses = datasets.load("windsor").drop(columns=["price"]).head(5)
    sold = pd.to_datetime(["2016-12-03", "2016-11-04", "2016-10-05", "2016-09-06", "2016-08-07"])
    prices = {}
    for name, cells in (
        ("dayfirst", sold.strftime("%d/%m/%Y")),
        ("iso", sold.strftime("%Y-%m-%d")),
        ("swapped", sold.strftime("%m/%d/%Y")),  # read day first: other days
    ):
        path, out = tmp_path / f"{name}.csv", tmp_path / f"{name}-prices.csv"
        houses.assign(sold=cells).to_csv(path, index=False)
        proc = run_cli(
            ["predict", "--data", str(path), "--out", str(out), "--version", "1"], env, 180
        )
        assert proc.returncode == 0, proc.stderr
        prices[name] = pd.read_csv(out)["price"].to_numpy()
    np.testing.assert_allclose(prices["dayfirst"], prices["iso"], rtol=1e-9)
    # months apart in a market rising 30% a year: not the same prices
    assert np.abs(np.log(prices["swapped"] / prices["iso"])).max() > 0.02
    _served_dates_read_as_the_file_writes_them(env, houses, sold, prices["iso"])


def _served_dates_read_as_the_file_writes_them(
    env: dict[str, str], houses: pd.DataFrame, sold: pd.DatetimeIndex, iso: np.ndarray
) -> None:
    """The API takes the file's own date writing too, and numbers as decimal years (as the
    files do): the same prices as `predict` gave the file."""
    written = {
        "dayfirst": list(sold.strftime("%d/%m/%Y")),
        "iso": list(sold.strftime("%Y-%m-%d")),
        "basic": list(sold.strftime("%Y%m%dT000000")),
        "years": list(dates(sold.to_numpy(), len(sold))),
    }
    rows = houses.to_dict(orient="records")
    settings = Settings(home=Path(env["PP_HOME"]), reload_interval_s=0)
    with TestClient(create_app(settings)) as c:
        wait_ready(c)
        for how, cells in written.items():
            body = {"houses": [{**h, "sold": d} for h, d in zip(rows, cells, strict=True)]}
            r = c.post("/v1/predict/batch", json=body)
            assert r.status_code == 200, (how, r.text)
            got = np.array([p["price"] for p in r.json()["predictions"]])
            np.testing.assert_allclose(got, iso, rtol=1e-6, err_msg=how)
        # a table whose dates carry a time zone, as pandas writes one (Parquet: zoned
        # timestamps; CSV: an offset after the time): the local day counts
        zoned = houses.assign(sold=sold.tz_localize("Asia/Tokyo"))
        pq_body = io.BytesIO()
        zoned.to_parquet(pq_body, index=False)
        for mime, raw in (
            ("application/vnd.apache.parquet", pq_body.getvalue()),
            ("text/csv", zoned.to_csv(index=False).encode()),
        ):
            r = c.post("/invocations", content=raw, headers={"content-type": mime})
            assert r.status_code == 200, (mime, r.text)
            np.testing.assert_allclose(r.json()["predictions"], iso, rtol=1e-6, err_msg=mime)
        one = c.post("/v1/predict", json={**rows[0], "sold": written["dayfirst"][0]})
        assert one.status_code == 200 and one.json()["price"] == pytest.approx(iso[0], rel=1e-6)
        for bad, words in (("31/31/2016", "not a date"), (0, "decimal year"), (True, "text")):
            r = c.post("/v1/predict", json={**rows[0], "sold": bad})
            assert r.status_code == 422, r.text
            item = r.json()["detail"][0]
            assert item["field"] == "sold" and words in item["message"], item
