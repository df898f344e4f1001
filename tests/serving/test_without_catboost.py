"""A model with a CatBoost member served where catboost is not installed (the runtime image
holds only the serving extra): it is ready, prices through the kernel and explains from the
member's trees as arrays, giving what it gives with catboost."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from tests.conftest import base_env, run_cli
from tests.servers import api_server

# trains a blend with a CatBoost member, then serves it in a process without the library
pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.long]

HOUSE = {"gr_liv_area": 1710, "overall_qual": 7, "neighborhood": "CollgCr", "year_built": 2003}


def test_a_catboost_member_prices_without_catboost(small_csv: Path, tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    weights = {"linear": 0.5, "catboost": 0.5}
    params.write_text(
        json.dumps(
            {"catboost": {"iterations": 60}, "blend": {"choose_weights": False, "weights": weights}}
        )
    )
    env = base_env(tmp_path / "home", params)
    run_cli(["train", "--data", str(small_csv)], env, check=True)
    with_catboost = {**env}
    shadow = tmp_path / "shadow" / "catboost"  # first on the path: `import catboost` fails
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        'raise ImportError("No module named \'catboost\'", name="catboost")\n'
    )
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(shadow.parent), env.get("PYTHONPATH", "")) if p
    )
    prices, explanations = [], []
    for run_env, name in ((with_catboost, "with"), (env, "without")):
        with api_server(run_env, tmp_path / f"api-{name}.log") as (url, _):
            r = httpx.post(f"{url}/v1/predict", json=HOUSE, timeout=30)
            assert r.status_code == 200, r.text
            prices.append(r.json()["price"])
            explained = httpx.post(f"{url}/v1/explain", json=HOUSE, timeout=60)
            assert explained.status_code == 200, explained.text
            explanations.append(explained.json())
        assert "explanations unavailable" not in (tmp_path / f"api-{name}.log").read_text()
    assert prices[0] == prices[1]  # the same kernel, the same tables
    effects = [{c["feature"]: c["log_effect"] for c in e["contributions"]} for e in explanations]
    assert effects[0] == effects[1] and len(effects[0]) > 3
