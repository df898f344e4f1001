"""The web page in real headless Chromium (Debian's), driven by Playwright, on the real server."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import base_env
from tests.servers import api_server

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def test_fill_submit_see_price_chart_and_field_error(bundle_dir: Path, tmp_path: Path) -> None:
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium")
    from playwright.sync_api import expect, sync_playwright

    env = base_env(tmp_path / "pp", PP_MODEL_URI=str(bundle_dir))
    with api_server(env, tmp_path / "api.log") as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            external: list[str] = []
            page.on("request", lambda r: None if r.url.startswith(url) else external.append(r.url))
            # no outside network: anything not served by the app fails, as offline
            page.route(
                "**/*", lambda r: r.continue_() if r.request.url.startswith(url) else r.abort()
            )
            violations: list[str] = []
            page.on(
                "console",
                lambda m: (
                    violations.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            response = page.goto(url + "/", timeout=30_000)
            assert response is not None
            headers = response.headers
            assert "script-src 'self'" in headers["content-security-policy"]
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
            assert headers["x-content-type-options"] == "nosniff"
            assert (
                headers["referrer-policy"] == "no-referrer" and headers["x-frame-options"] == "DENY"
            )
            page.wait_for_selector("body[data-ready=true]", timeout=30_000)
            page.fill("#f-gr_liv_area", "2200")
            page.fill("#f-overall_qual", "8")
            # levels the model knows, by name, from the spec's labels
            assert "Northridge Heights (NridgHt)" in page.inner_text("#f-neighborhood")
            page.select_option("#f-neighborhood", "NridgHt")
            page.click("#submit")
            expect(page.locator("#price")).to_contain_text("$", timeout=30_000)
            # what the user gave, apart from what was assumed: the imputed features are
            # one line ("together +$X") that opens to their bars
            given = page.locator("#chart .bar-row").count()
            assert 3 <= given <= 12
            chart = page.locator("#chart").inner_text()
            assert "Neighborhood" in chart and "Exterior quality" not in chart
            summary = page.locator("#assumed-summary").inner_text()
            assert re.search(
                r"Assumed typical: \d+ features you did not give, together [+−]\$", summary
            )
            assert not page.locator("#assumed-chart").is_visible()
            page.click("#assumed-summary")
            expect(page.locator("#assumed-chart")).to_be_visible()
            assumed = page.locator("#assumed-chart .bar-row").count()
            assert (
                assumed >= 20 and "Exterior quality" in page.locator("#assumed-chart").inner_text()
            )
            assert "v1" in page.locator("#model-version").inner_text()
            page.screenshot(path=str(tmp_path / "estimate.png"), full_page=True)
            # a bad value: the server's 422 appears next to the field
            page.fill("#f-overall_qual", "42")
            page.click("#submit")
            err = page.locator("#f-overall_qual-err")
            expect(err).to_contain_text("less than or equal to 10", timeout=10_000)
            assert page.get_attribute("#f-overall_qual", "aria-invalid") == "true"
            # the parcel id, among the other fields: a negative one is refused by name
            page.fill("#f-overall_qual", "8")
            page.fill("#f-pid", "-3")
            page.click("#submit")
            expect(page.locator("#f-pid-err")).to_contain_text(
                "greater than or equal to 0", timeout=10_000
            )
            page.fill("#f-pid", "")
            # a house bigger than any in training: priced, with the warning shown
            page.fill("#f-gr_liv_area", "20000")
            page.click("#submit")
            expect(page.locator("#warnings")).to_contain_text(
                "gr_liv_area=20000 is outside the training range", timeout=30_000
            )
            # the model card tab, by keyboard
            page.focus("#tab-estimate")
            page.keyboard.press("ArrowRight")
            expect(page.locator("#panel-card")).to_be_visible()
            assert page.locator("#importance .bar-row").count() >= 5
            # numbers with their units and a line saying what each means
            card = page.locator("#card-metrics")
            assert "RMSE, log price" in card.inner_text()
            mae = card.locator("[data-metric=mae_dollars]").inner_text()
            assert re.search(r"Mean absolute error\s+\$\d{1,3}(,\d{3})*\s+average miss", mae)
            rows = card.locator("[data-metric=holdout_rows] td").first.inner_text()
            assert re.fullmatch(r"\d{1,3}(,\d{3})*", rows)
            cover = card.locator("[data-metric=interval_coverage] td").first.inner_text()
            assert re.fullmatch(r"\d{1,3}\.\d%", cover)
            assert card.locator("[data-metric=cv_rmse_mean]").count() == 1
            assert card.locator("[data-metric=mse]").count() == 0
            fit = card.locator("[data-metric=fit_seconds] td").first.inner_text()
            assert re.fullmatch(r"\d+\.\d s", fit)
            assert "PID // 1000" in page.locator("#card-meta").inner_text()
            page.screenshot(path=str(tmp_path / "card.png"), full_page=True)
            # the API docs render from the package, offline, under the same policy
            page.goto(url + "/docs", timeout=30_000)
            expect(page.locator(".swagger-ui .info .title")).to_contain_text(
                "prices-predictor", timeout=30_000
            )
            expect(page.locator(".swagger-ui")).to_contain_text("/v1/predict", timeout=10_000)
            assert external == []  # everything is served by the app: works offline
            assert violations == []  # the page and the docs work under their policies
        finally:
            browser.close()
    assert (tmp_path / "estimate.png").stat().st_size > 10_000


def test_the_page_builds_its_form_from_a_non_ames_models_spec(
    other_homes: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    """Windsor's sales (six yes/no amenities): the form has its fields and no Ames ones."""
    from playwright.sync_api import expect, sync_playwright

    env = {**other_homes["windsor"]}
    env.pop("TRAIN_STDOUT")
    with api_server(env, tmp_path / "api.log") as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(url + "/", timeout=30_000)
            page.wait_for_selector("body[data-ready=true]", timeout=30_000)
            assert page.locator("#f-gr_liv_area").count() == 0  # nothing of Ames
            assert page.locator("#f-lotsize").count() == 1  # the size, a key feature
            page.select_option("#f-airco", "yes")  # a yes/no amenity: a dropdown
            page.fill("#f-lotsize", "6000")
            page.click("#submit")
            expect(page.locator("#price")).to_contain_text("$", timeout=30_000)
            assert page.locator("#chart .bar-row").count() >= 3
            page.fill("#f-lotsize", "-5")
            page.click("#submit")
            expect(page.locator("#f-lotsize-err")).to_contain_text(
                "greater than or equal to 0", timeout=10_000
            )
        finally:
            browser.close()
