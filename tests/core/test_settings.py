"""Settings: env prefix, defaults, derived URIs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from prices_predictor.core.settings import Settings


def test_defaults_put_state_under_home(isolated: Path) -> None:
    s = Settings()
    assert s.home == isolated.resolve()
    assert s.tracking_uri == f"sqlite:///{isolated.resolve() / 'mlflow.db'}"
    assert s.prediction_db.startswith("sqlite:///")
    assert s.model_name == "prices_predictor"


def test_env_prefix(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PP_MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    monkeypatch.setenv("PP_MODEL_NAME", "other")
    s = Settings()
    assert s.tracking_uri == "http://127.0.0.1:5000"
    assert s.model_name == "other"


def test_invalid_value_is_rejected(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PP_TEST_SIZE", "1.5")
    with pytest.raises(ValidationError, match="test_size"):
        Settings()


def test_the_configuration_page_is_the_settings() -> None:
    from prices_predictor.core.settings import configuration_markdown
    from tests.conftest import ROOT

    page = (ROOT / "docs" / "configuration.md").read_text()
    assert page == configuration_markdown(), "run: make docs"
    assert "`PP_OUTLIER_MAX` / `PP_OUTLIER_MAX_LIVING_AREA`" in page
