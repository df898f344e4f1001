"""A feature whose extra is not installed names the extra: CLI, API and model loading."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tomllib

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from prices_predictor.core.extras import EXTRA_OF, MissingExtra, missing_extra
from prices_predictor.serving import errors
from prices_predictor.serving.metrics import Metrics
from tests.conftest import ROOT


def _absent(name: str) -> ModuleNotFoundError:
    return ModuleNotFoundError(f"No module named '{name}'", name=name)


def test_missing_extra_names_the_extra_of_a_top_level_module() -> None:
    m = missing_extra(_absent("evidently.presets"), "live drift")
    assert isinstance(m, MissingExtra) and m.extra == "monitoring"
    assert str(m) == (
        "live drift needs the 'monitoring' extra (no module named 'evidently'): "
        "pip install 'prices-predictor[monitoring]'"
    )
    assert missing_extra(_absent("not_a_dependency")) is None
    assert missing_extra(ImportError("cannot import name 'x'")) is None
    # every extra named is one pyproject declares, and each declares its module
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    for module, extra in EXTRA_OF.items():
        assert extra in extras, (module, extra)
    assert {"serving", "jit", "shap", "monitoring", "catboost", "training"} <= set(extras)
    assert not any(
        d.split(">")[0].split("=")[0] in ("numba", "shap") for d in project["dependencies"]
    )


def test_an_api_route_whose_extra_is_missing_answers_501() -> None:
    app = FastAPI()
    errors.install(app, Metrics())

    @app.get("/drift")
    def drift() -> None:
        raise _absent("evidently")

    @app.get("/bug")
    def bug() -> None:
        raise _absent("not_a_dependency")

    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/drift")
    assert r.status_code == 501
    assert "pip install 'prices-predictor[monitoring]'" in r.json()["detail"]
    assert client.get("/bug").status_code == 500  # not an extra: a bug stays a 500


def test_a_regressor_pickled_with_a_missing_library_names_its_extra(monkeypatch) -> None:
    from prices_predictor.models import price_model

    model = price_model.PriceModel.__new__(price_model.PriceModel)
    model.__dict__.update(metadata={"strategy": "catboost"}, _regressor_pickle=b"x")

    def loads(_: bytes) -> object:
        raise _absent("catboost")

    monkeypatch.setattr(pickle, "loads", loads)
    with pytest.raises(MissingExtra, match=r"this catboost model needs the 'catboost' extra"):
        _ = model.regressor


def test_the_cli_names_the_extra_instead_of_a_traceback(tmp_path) -> None:
    # a command whose library is absent: zenml hidden from this child process
    code = (
        "import sys; sys.modules['zenml'] = None; sys.argv = ['prices-predictor', 'monitor'];"
        "from prices_predictor.cli.main import main; main()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PP_HOME": str(tmp_path)},
    )
    assert out.returncode == 2, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    assert "pip install 'prices-predictor[training]'" in out.stderr
