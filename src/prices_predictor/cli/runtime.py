"""Shared CLI set-up: settings, MLflow and ZenML isolation, error translation."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prices_predictor.cli.output import fail
from prices_predictor.core.errors import UserError
from prices_predictor.core.extras import missing_extra
from prices_predictor.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from prices_predictor.models.price_model import PriceModel
    from prices_predictor.tracking.loading import LoadedModel


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
    except ImportError as exc:
        missing = missing_extra(exc, "this command")
        if missing is None:
            raise
        raise fail(str(missing)) from None


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
    # lazy: MLflow only when serving from the registry
    from prices_predictor.tracking.mlflow_env import configure

    with user_errors():
        configure(s)
        if zenml:
            # lazy: ZenML (~3 s) only to run pipelines
            from prices_predictor.pipelines.zenml_env import configure_zenml

            configure_zenml(s)


def command_model(s: Settings, version: str | None = None) -> tuple[PriceModel, str]:
    """``tracking.loading.served_model`` for a command: registry prepared, errors as one line,
    and a label for the output."""
    m = command_loaded(s, version)
    return m.model, model_label(m)


def command_loaded(s: Settings, version: str | None = None) -> LoadedModel:
    with user_errors():
        if not s.model_uri or version is not None:
            prepare(s)
        from prices_predictor.tracking.loading import served_model as load  # lazy: MLflow

        return load(s, version)


def model_label(m: LoadedModel) -> str:
    label = f"{m.name} v{m.version}"
    if m.alias != f"v{m.version}":  # an explicit --version has no alias to show
        label += f" ({m.alias})"
    return label
