"""Shared CLI set-up: settings, MLflow and ZenML isolation, error translation."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator

from prices_predictor.cli.output import fail
from prices_predictor.errors import UserError
from prices_predictor.settings import Settings, get_settings


def settings() -> Settings:
    get_settings.cache_clear()
    try:
        return get_settings()
    except Exception as exc:  # pydantic ValidationError: show which PP_ variable is wrong
        raise fail(f"invalid settings: {exc}") from None


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn project errors into one line on stderr and exit code 2."""
    try:
        yield
    except UserError as exc:
        raise fail(str(exc)) from None


def quiet() -> None:
    """Keep third-party chatter out of the user's terminal."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    warnings.filterwarnings("ignore")
    for name in ("mlflow", "alembic", "zenml", "urllib3", "git"):
        logging.getLogger(name).setLevel(logging.ERROR)


def prepare(s: Settings, zenml: bool = False) -> None:
    """Configure MLflow (and ZenML) for this process."""
    quiet()
    from prices_predictor.tracking.mlflow_env import configure

    with user_errors():
        configure(s)
        if zenml:
            from prices_predictor.zenml_env import configure_zenml

            configure_zenml(s)
